package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/postfixtest"
)

// TestNoCacheAnswersFromTheRealQueue: on a real Postfix queue, mqsql --no-cache answers a
// read-only statement straight from the queue files, with no index file of any kind (TMPDIR,
// where a temporary index would go, does not exist), and says what postqueue -j says of every
// message; a statement on events, which needs an index, still goes to one.
func TestNoCacheAnswersFromTheRealQueue(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx := context.Background()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	pop := pf.Population(ctx, t, 30)
	want, err := pf.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", t.TempDir()+"/absent")
	r := runMQSQL(t, "", "--no-cache", "--spool", pf.QueueDir(), "--format", "jsonl",
		`SELECT queue, queue_id, arrival_time, size, forced_expire, sender, recipient_count FROM messages WHERE queue != 'corrupt'`)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := directListing(t, r.stdout)
	var oracle []string
	for _, e := range want {
		oracle = append(oracle, fmt.Sprintf("%s %s %d %d %t %s %d", e.QueueName, e.QueueID, e.ArrivalTime, e.MessageSize, e.ForcedExpire, e.Sender, len(e.Recipients)))
	}
	slices.Sort(oracle)
	if len(oracle) < pop.Messages/2 || !slices.Equal(got, oracle) {
		t.Errorf("mqsql --no-cache:\n%s\npostqueue -j:\n%s", strings.Join(got, "\n"), strings.Join(oracle, "\n"))
	}
	r = runMQSQL(t, "", "--no-cache", "--spool", pf.QueueDir(), "--header=false", `SELECT count(*) FROM messages WHERE queue = 'hold'`)
	if r.code != exitOK || strings.TrimSpace(r.stdout) != fmt.Sprint(pop.Held) {
		t.Errorf("held: exit %d, %q %s; want %d", r.code, r.stdout, r.stderr, pop.Held)
	}
	if r := runMQSQL(t, "", "--no-cache", "--spool", pf.QueueDir(), `SELECT count(*) FROM events`); r.code == exitOK {
		t.Errorf("events answered without an index: %q", r.stdout)
	}
}

// directListing turns mqsql's jsonl rows into postqueue -j's terms, sorted.
func directListing(t *testing.T, out string) []string {
	t.Helper()
	var rows []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		num := func(k string) int64 { return int64(m[k].(float64)) }
		rows = append(rows, fmt.Sprintf("%s %s %d %d %t %s %d", m["queue"], m["queue_id"], num("arrival_time"), num("size"),
			num("forced_expire") != 0, postqueueSender(m["sender"].(string)), num("recipient_count")))
	}
	slices.Sort(rows)
	return rows
}

// postqueueSender is how postqueue -j shows an envelope sender: MAILER-DAEMON for the null
// sender, the local part quoted when needed, non-printable characters as '?'.
func postqueueSender(addr string) string {
	if addr == "" {
		return "MAILER-DAEMON"
	}
	var b strings.Builder
	for _, r := range mqsql.QuoteLocal(addr) {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
