package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/sendmailtest"
)

// TestHistoryRealSendmail has the real Sendmail log through a real syslog (Debian's
// rsyslog): a queue run against the scripted peer, which accepts two recipients, defers one
// (452) and refuses one (550). mqsql --log reads that
// file: deliveries agree with the log's to= lines per queue ID and status, and
// log_messages.sender with the queue files'.
func TestHistoryRealSendmail(t *testing.T) {
	s := sendmailtest.Require(t)
	logFile := sendmailtest.Syslog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	msg := []byte("Subject: history\n\nbody\n")
	if err := s.Submit(ctx, "mixed@sender.example", []string{"ok@dest.example", "temp@dest.example", "perm@dest.example"}, msg); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(ctx, "later@sender.example", []string{"later@dest.example"}, msg); err != nil {
		t.Fatal(err)
	}
	sendmailtest.StartPeer(t)
	// QueueLA: on a loaded machine Sendmail leaves mail of a high priority (three recipients)
	// out of a queue run.
	if _, err := s.RunQueue(ctx, "-OQueueLA=1000", "-ORefuseLA=1000", "-q"); err != nil {
		t.Fatal(err)
	}
	sendmailtest.WaitForLog(t, logFile, "to=ok@dest.example, delay", "stat=Sent", "stat=User unknown")
	db := filepath.Join(t.TempDir(), "h.db")
	q := func(sql string) string {
		t.Helper()
		r := runMQSQL(t, "", "--mta", "sendmail", "--spool", s.Queue, "--db", db, "--log", logFile, "--history-days", "7", "--format", "csv", "--header=false", sql)
		if r.code != 0 {
			t.Fatalf("%s: %d %s", sql, r.code, r.stderr)
		}
		return r.stdout
	}
	got := q("SELECT queue_id || ' ' || status || ' ' || count(*) FROM deliveries GROUP BY queue_id, status ORDER BY 1")
	log, _ := os.ReadFile(logFile)
	if want := sendmailStatuses(string(log)); got != want {
		t.Errorf("deliveries:\n%s\nthe log:\n%s\n%s", got, want, log)
	}
	for _, st := range []string{" sent ", " deferred ", " bounced "} {
		if !strings.Contains(got, st) {
			t.Errorf("no%sdelivery:\n%s", st, got)
		}
	}
	if got := q("SELECT count(*) > 0 AND count(*) = (SELECT count(*) FROM messages) FROM messages m JOIN log_messages l USING (queue_id) WHERE l.sender IS m.sender"); got != "1\n" {
		t.Errorf("log_messages.sender differs from the queue files':\n%s", q("SELECT m.queue_id, m.sender, l.sender FROM messages m LEFT JOIN log_messages l USING (queue_id)"))
	}
}

var (
	sendmailTo  = regexp.MustCompile(`(?m)^\S+ \S+ sendmail\[\d+\]: (\w+): to=(.*?), (?:ctladdr|delay)=.*, stat=(.*)$`)
	sendmailDSN = regexp.MustCompile(`, dsn=(\S+),`)
)

// sendmailStatuses counts the log's delivery results per queue ID and status, one per
// recipient of a to= list; stat=queued is no attempt.
func sendmailStatuses(log string) string {
	counts := map[string]int{}
	for _, m := range sendmailTo.FindAllStringSubmatch(log, -1) {
		var status string
		dsn := ""
		if d := sendmailDSN.FindStringSubmatch(m[0]); d != nil {
			dsn = d[1]
		}
		switch stat := m[3]; {
		case stat == "queued":
			continue
		case strings.HasPrefix(stat, "Sent"):
			status = "sent"
		case strings.HasPrefix(stat, "Deferred"):
			status = "deferred"
		case strings.HasPrefix(dsn, "5."):
			status = "bounced"
		default:
			status = "?" + stat
		}
		counts[m[1]+" "+status] += len(strings.Split(m[2], ","))
	}
	var lines []string
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s %d\n", k, n))
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}
