package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/eximtest"
)

// TestHistoryRealExim has the real Exim deliver to a file (sent) and defer against the
// closed port in one message, fail a recipient (bounced), cancel one (-Mg) and leave one
// queued, then reads its own mainlog with --log: deliveries agree with the mainlog's =>, ->,
// ==, ** lines per queue ID and status, and log_messages.sender with the queue files'.
func TestHistoryRealExim(t *testing.T) {
	e := eximtest.Require(t, false)
	partial := e.Submit(t, "partial@mqsql.test", "a@local.test", "b@remote.test")
	failed := e.Submit(t, "failed@mqsql.test", "nobody@fail.test")
	cancelled := e.Submit(t, "cancelled@mqsql.test", "c@remote.test")
	e.Submit(t, "queued@mqsql.test", "q@remote.test")
	e.Run(nil, "-M", partial)
	e.Run(nil, "-M", failed)
	e.MustRun(t, nil, "-Mg", cancelled)
	mainlog := filepath.Join(e.Spool, "log", "mainlog")
	db := filepath.Join(t.TempDir(), "h.db")
	q := func(sql string) string {
		t.Helper()
		r := runMQSQL(t, "", "--mta", "exim", "--spool", e.Spool, "--db", db, "--log", mainlog, "--history-days", "7", "--format", "csv", "--header=false", sql)
		if r.code != 0 {
			t.Fatalf("%s: %d %s", sql, r.code, r.stderr)
		}
		return r.stdout
	}
	got := q("SELECT queue_id || ' ' || status || ' ' || count(*) FROM deliveries GROUP BY queue_id, status ORDER BY 1")
	if want := eximStatuses(t, mainlog); got != want {
		t.Errorf("deliveries:\n%s\nthe mainlog:\n%s\n%s", got, want, e.MainLog())
	}
	for _, s := range []string{partial + " sent 1", partial + " deferred 1", failed + " bounced 1"} {
		if !strings.Contains(got, s) {
			t.Errorf("no %q in\n%s", s, got)
		}
	}
	if got := q("SELECT count(*) = (SELECT count(*) FROM messages) FROM messages m JOIN log_messages l USING (queue_id) WHERE l.sender IS m.sender"); got != "1\n" {
		t.Errorf("log_messages.sender differs from the queue files' for some message:\n%s", q("SELECT m.queue_id, m.sender, l.sender FROM messages m LEFT JOIN log_messages l USING (queue_id)"))
	}
	if got := q("SELECT count(*) FROM log_messages WHERE removed IS NOT NULL AND queue_id IN ('" + cancelled + "', '" + failed + "')"); got != "2\n" {
		t.Errorf("removed set on %s of the cancelled and the failed message", strings.TrimSpace(got))
	}
}

var eximDelivery = regexp.MustCompile(`(?m)^\S+ \S+ (?:\[\d+\] )?(\S+) (=>|->|==|\*\*) `)

// eximStatuses counts the mainlog's delivery lines per queue ID and status.
func eximStatuses(t *testing.T, mainlog string) string {
	t.Helper()
	data, err := os.ReadFile(mainlog)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{"=>": "sent", "->": "sent", "==": "deferred", "**": "bounced"}
	counts := map[string]int{}
	for _, m := range eximDelivery.FindAllStringSubmatch(string(data), -1) {
		counts[m[1]+" "+status[m[2]]]++
	}
	var lines []string
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s %d\n", k, n))
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}
