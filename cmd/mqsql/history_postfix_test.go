package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// TestHistoryRealPostfix has the real Postfix deliver locally (sent), defer remote mail
// against the closed relay port, bounce to an unknown local user, expire a message
// (postsuper -e, then a flush) and delete one (postsuper -d), then runs mqsql without --log:
// it must find the log postconf's maillog_file names, and its deliveries must agree with
// the log's status= lines, per status and per queue ID, and log_messages.sender with the
// queue files' senders.
func TestHistoryRealPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	logFile := maillogFile(ctx, t)
	ids := sendHistory(ctx, t, pf)
	waitForLog(t, logFile, ids["expired"]+": removed", ids["deleted"]+": removed", ids["bounced"]+": removed")
	db := filepath.Join(t.TempDir(), "h.db")
	res := runMQSQL(t, "", "--db", db, "--spool", pf.QueueDir(), "--history-days", "7", "--format", "csv", "--header=false",
		"SELECT queue_id || ' ' || status || ' ' || count(*) FROM deliveries WHERE queue_id IN ("+quoted(ids)+") GROUP BY queue_id, status ORDER BY 1")
	if res.code != 0 {
		t.Fatalf("mqsql: %d %s", res.code, res.stderr)
	}
	if want := logStatuses(t, logFile, ids); res.stdout != want {
		t.Errorf("deliveries per queue ID and status:\n%s\nthe log's status= lines:\n%s", res.stdout, want)
	}
	for _, s := range []string{"sent", "deferred", "bounced", "expired"} {
		if !strings.Contains(res.stdout, " "+s+" ") {
			t.Errorf("no %s delivery: %s", s, res.stdout)
		}
	}
	checkLogMessages(t, db, pf, ids)
}

// runTag sets this run's senders apart from earlier runs' in the shared log.
var runTag = fmt.Sprintf("-%x", time.Now().UnixNano())

// maillogFile is where .ci/postfix-setup has Postfix write its log (postconf maillog_file).
func maillogFile(ctx context.Context, t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "postconf", "-h", "maillog_file").Output()
	f := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(f, "/") {
		t.Fatalf("postconf maillog_file: %q %v: .ci/postfix-setup sets it", f, err)
	}
	return f
}

// sendHistory sends the test's mail through SMTP, authenticated as the hijacked account,
// and returns the queue ID of each kind.
func sendHistory(ctx context.Context, t *testing.T, pf *postfixtest.Postfix) map[string]string {
	t.Helper()
	c, err := pf.Dial(ctx, "client.test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(ctx, "hijacked@mqsql.test", postfixtest.SASLPassword); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, m := range []struct{ kind, to string }{
		{"sent", "root@localhost"}, {"deferred", "far@remote.test"},
		{"expired", "gone@remote.test"}, {"deleted", "del@remote.test"},
	} {
		id, err := c.Send(ctx, &postfixtest.Message{From: "hist-" + m.kind + runTag + "@sender.test", To: []string{m.to}, Body: []byte("history\n")})
		if err != nil {
			t.Fatal(err)
		}
		ids[m.kind] = id
	}
	ids["bounced"] = sendBounce(ctx, t, pf)
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"postsuper", "-e", ids["expired"]}, {"postqueue", "-i", ids["expired"]}, {"postsuper", "-d", ids["deleted"]}} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

// sendBounce submits mail to an unknown local user with sendmail (smtpd refuses it at RCPT),
// which local bounces, and returns its queue ID from postqueue -j.
func sendBounce(ctx context.Context, t *testing.T, pf *postfixtest.Postfix) string {
	t.Helper()
	if _, err := pf.Sendmail(ctx, []string{"-f", "hist-bounced" + runTag + "@sender.test", "nosuchuser@localhost"}, []byte("Subject: b\n\nhistory\n")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		data, _ := os.ReadFile(maillogFile(ctx, t))
		if m := regexp.MustCompile(`postfix/pickup\[\d+\]: (\w+): uid=\d+ from=<hist-bounced`+runTag+`@sender.test>`).FindAllSubmatch(data, -1); len(m) > 0 {
			return string(m[len(m)-1][1])
		}
	}
	t.Fatal("pickup did not log the bounced message")
	return ""
}

// waitForLog waits until the log holds each of the texts: postlogd writes a little after.
func waitForLog(t *testing.T, file string, texts ...string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		missing := ""
		for _, s := range texts {
			if !strings.Contains(string(data), s) {
				missing = s
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log has no %q", missing)
		}
	}
}

var statusOf = regexp.MustCompile(`^\S+ +\S+ \S+ \S+ postfix[^/ ]*/\S+\[\d+\]: (\w+): .*status=([a-z-]+)`)

// logStatuses counts the log's status= lines of ids per queue ID and status (qmgr's
// force-expired is an expiry), in the query's format.
func logStatuses(t *testing.T, file string, ids map[string]string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ours := map[string]bool{}
	for _, id := range ids {
		ours[id] = true
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := statusOf.FindStringSubmatch(sc.Text())
		if m == nil || !ours[m[1]] {
			continue
		}
		counts[m[1]+" "+strings.TrimPrefix(m[2], "force-")]++
	}
	var lines []string
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s %d\n", k, n))
	}
	return strings.Join(sortedStrings(lines), "")
}

func sortedStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// checkLogMessages compares log_messages with the queue: every queued message has a row
// whose sender is the queue file's, the SASL login and removal times are the log's.
func checkLogMessages(t *testing.T, db string, pf *postfixtest.Postfix, ids map[string]string) {
	t.Helper()
	for _, q := range []struct{ sql, want string }{
		{"SELECT count(*) >= 2 FROM messages", "1"}, // the deferred one, the bounces (deferred: remote senders)
		{"SELECT count(*) = (SELECT count(*) FROM messages) FROM messages m JOIN log_messages l USING (queue_id) WHERE l.sender IS m.sender", "1"},
		{"SELECT count(*) FROM log_messages WHERE sasl_username = 'hijacked@mqsql.test' AND queue_id IN (" + quoted(ids) + ")", "4"},
		{"SELECT group_concat(sender, ' ') FROM (SELECT sender FROM log_messages WHERE removed IS NOT NULL AND queue_id IN (" + quoted(ids) + ") ORDER BY sender)",
			strings.ReplaceAll("hist-bounced@sender.test hist-deleted@sender.test hist-expired@sender.test hist-sent@sender.test", "@", runTag+"@")},
		// README's incident query: the hijacked account's mail that went out in the last hour.
		{"SELECT domain || ' ' || sum(messages) || ' ' || sum(recipients) || ' ' || group_concat(relays) FROM delivered " +
			"WHERE sasl_username = 'hijacked@mqsql.test' AND minute >= now() - 3600 AND sender LIKE 'hist-%" + runTag + "@%' GROUP BY domain", "localhost 1 1 local"},
	} {
		res := runMQSQL(t, "", "--db", db, "--spool", pf.QueueDir(), "--format", "csv", "--header=false", q.sql)
		if got := strings.TrimSpace(res.stdout); res.code != 0 || got != q.want {
			t.Errorf("%s: %q (%s), want %q", q.sql, got, res.stderr, q.want)
		}
	}
}

func quoted(ids map[string]string) string {
	var q []string
	for _, id := range ids {
		q = append(q, "'"+id+"'")
	}
	return strings.Join(q, ", ")
}
