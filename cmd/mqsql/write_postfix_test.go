package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// liveQueue injects count messages from each sender and waits for Postfix to defer them.
func liveQueue(t *testing.T, pf *postfixtest.Postfix, senders map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := pf.Dial(ctx, "writes.test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for sender, n := range senders {
		for i := range n {
			m := &postfixtest.Message{From: sender, To: []string{fmt.Sprintf("r%d@remote.test", i), "x@example.net"},
				Header: []postfixtest.HeaderField{{Name: "Subject", Value: fmt.Sprintf("%s #%d", sender, i)}}, Body: []byte("hello\n")}
			if _, err := c.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

// byKey indexes postqueue -j output by queue ID.
func byKey(t *testing.T, pf *postfixtest.Postfix) map[string]postfixtest.Entry {
	t.Helper()
	entries, err := pf.PostqueueJSON(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]postfixtest.Entry{}
	for _, e := range entries {
		m[e.QueueID] = e
	}
	return m
}

func countSender(q map[string]postfixtest.Entry, sender, queue string) int {
	n := 0
	for _, e := range q {
		if e.Sender == sender && (queue == "" || e.QueueName == queue) {
			n++
		}
	}
	return n
}

// sameExcept checks that every message of before not from sender is in after unchanged.
func sameExcept(t *testing.T, before, after map[string]postfixtest.Entry, sender string) {
	t.Helper()
	for id, e := range before {
		if e.Sender == sender {
			continue
		}
		a, ok := after[id]
		if !ok || a.QueueName != e.QueueName || a.ForcedExpire != e.ForcedExpire || a.MessageSize != e.MessageSize {
			t.Errorf("message %s of %s changed: before %+v, after %+v (present %v)", id, e.Sender, e, a, ok)
		}
	}
}

func TestLiveDeleteRestore(t *testing.T) {
	pf := postfixtest.Require(t)
	const victim = "victim@spam.test"
	liveQueue(t, pf, map[string]int{victim: 30, "keep1@ok.test": 10, "keep2@ok.test": 10})
	backup := t.TempDir()
	before := byKey(t, pf)

	r := runMQSQL(t, "", "--backup", backup, "--dry-run", "DELETE FROM messages WHERE sender = '"+victim+"'")
	if r.code != 0 || !strings.Contains(r.stdout, "postsuper -d - deferred < queue IDs   # 30 messages") {
		t.Fatalf("dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if after := byKey(t, pf); !maps(before, after) {
		t.Fatal("the dry run changed the queue")
	}
	r = runMQSQL(t, "", "--backup", backup, "DELETE FROM messages WHERE sender = '"+victim+"'")
	if r.code == 0 || !maps(before, byKey(t, pf)) {
		t.Fatalf("without --yes: exit %d, queue changed %v", r.code, !maps(before, byKey(t, pf)))
	}

	r = runMQSQL(t, "", "--backup", backup, "--yes", "DELETE FROM messages WHERE sender = '"+victim+"'")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 30, skipped: 0, failed: 0.") {
		t.Fatalf("delete: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := byKey(t, pf)
	if n := countSender(after, victim, ""); n != 0 || len(after) != len(before)-30 {
		t.Errorf("after delete: %d from %s left, %d messages (was %d)", n, victim, len(after), len(before))
	}
	sameExcept(t, before, after, victim)

	folders, _ := filepath.Glob(filepath.Join(backup, "2*"))
	if len(folders) != 1 {
		t.Fatalf("backup folders %v", folders)
	}
	r = runMQSQL(t, "", "restore", "--backup", backup, folders[0])
	if r.code != 0 || !strings.Contains(r.stdout, "Restored: 30, failed: 0.") {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "maildrop/") {
		t.Errorf("restore did not report every new queue ID:\n%s", r.stdout)
	}
	if err := pf.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	restored := byKey(t, pf)
	if n := countSender(restored, victim, "deferred"); n != 30 {
		t.Errorf("after restore: %d messages from %s deferred, want 30", n, victim)
	}
	sameExcept(t, before, restored, victim)
}

func maps(a, b map[string]postfixtest.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.QueueName != w.QueueName || v.ForcedExpire != w.ForcedExpire || v.Sender != w.Sender || !slices.Equal(v.Recipients, w.Recipients) {
			return false
		}
	}
	return true
}

func TestLiveUpdates(t *testing.T) {
	pf := postfixtest.Require(t)
	senders := map[string]int{"hold@ok.test": 3, "requeue@ok.test": 2, "flush@ok.test": 1, "expire@ok.test": 2, "bystander@ok.test": 5}
	liveQueue(t, pf, senders)
	backup := t.TempDir()
	do := func(sql string, want string, flags ...string) {
		t.Helper()
		r := runMQSQL(t, "", append(append([]string{"--backup", backup, "--yes"}, flags...), sql)...)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("%s: exit %d\n%s\n%s", sql, r.code, r.stdout, r.stderr)
		}
	}
	before := byKey(t, pf)

	do("UPDATE messages SET queue = 'hold' WHERE sender = 'hold@ok.test'", "Done: 3, skipped: 0")
	q := byKey(t, pf)
	if countSender(q, "hold@ok.test", "hold") != 3 {
		t.Errorf("hold: %d held", countSender(q, "hold@ok.test", "hold"))
	}
	// These are all the held messages: releasing every message release applies to needs --force.
	do("UPDATE messages SET queue = 'deferred' WHERE sender = 'hold@ok.test'", "Done: 3, skipped: 0", "--force")
	if q = byKey(t, pf); countSender(q, "hold@ok.test", "deferred") != 3 {
		t.Errorf("release: %d deferred", countSender(q, "hold@ok.test", "deferred"))
	}
	do("UPDATE messages SET forced_expire = 1 WHERE sender = 'expire@ok.test'", "Done: 2, skipped: 0")
	for _, e := range byKey(t, pf) {
		if (e.Sender == "expire@ok.test") != e.ForcedExpire {
			t.Errorf("expire: %s from %s forced_expire=%v", e.QueueID, e.Sender, e.ForcedExpire)
		}
	}
	do("UPDATE messages SET queue = 'maildrop' WHERE sender = 'requeue@ok.test'", "Done: 2, skipped: 0")
	flushed := idsOf(before, "flush@ok.test")
	do("UPDATE messages SET queue = 'active' WHERE sender = 'flush@ok.test'", "Done: 1, skipped: 0")
	waitFor(t, func() bool {
		// flush: the file is retried at once and deferred again with a new retry time
		_ = pf.Settle(context.Background())
		q := byKey(t, pf)
		_, still := q[flushed[0]]
		return still && countSender(q, "requeue@ok.test", "deferred") == 2
	})
	q = byKey(t, pf)
	for _, id := range idsOf(before, "requeue@ok.test") {
		if _, ok := q[id]; ok {
			t.Errorf("requeued message %s still has its old queue ID", id)
		}
	}
	bystanders := map[string]postfixtest.Entry{}
	for id, e := range before {
		if e.Sender == "bystander@ok.test" {
			bystanders[id] = e
		}
	}
	sameExcept(t, bystanders, q, "")
}

func idsOf(q map[string]postfixtest.Entry, sender string) []string {
	var ids []string
	for id, e := range q {
		if e.Sender == sender {
			ids = append(ids, id)
		}
	}
	return ids
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out waiting for Postfix")
}

// TestLiveChangedBetweenPlanAndAction moves and deletes messages behind mqsql's back after the
// plan was made: the executor must skip them, never hit them.
func TestLiveChangedBetweenPlanAndAction(t *testing.T) {
	pf := postfixtest.Require(t)
	liveQueue(t, pf, map[string]int{"race@ok.test": 3})
	ctx := context.Background()
	sp, _ := openLiveSpool(t)
	targets := planTargets(t, sp)
	if len(targets) != 3 {
		t.Fatalf("%d targets", len(targets))
	}
	moved, gone, kept := targets[0], targets[1], targets[2]
	if out, err := pf.Postsuper(ctx, "-h", moved.QueueID); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := pf.Postsuper(ctx, "-d", gone.QueueID); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	ex := &postfix.Postsuper{Spool: sp}
	outs := ex.Apply(ctx, mqsql.OpDelete, mqsql.Deferred, targets)
	results := map[string]mqsql.Outcome{}
	for _, o := range outs {
		results[o.QueueID] = o
	}
	if o := results[moved.QueueID]; o.Result != mqsql.Skipped || !strings.Contains(o.Detail, "moved to hold") {
		t.Errorf("moved message: %+v", o)
	}
	if o := results[gone.QueueID]; o.Result != mqsql.Skipped || !strings.Contains(o.Detail, "gone") {
		t.Errorf("gone message: %+v", o)
	}
	if o := results[kept.QueueID]; o.Result != mqsql.Applied {
		t.Errorf("unchanged message: %+v", o)
	}
	q := byKey(t, pf)
	if e, ok := q[moved.QueueID]; !ok || e.QueueName != "hold" {
		t.Errorf("the moved message was touched: %+v %v", e, ok)
	}
}

// planTargets indexes the live spool and returns every deferred message as a target.
func planTargets(t *testing.T, sp *postfix.Spool) []mqsql.Target {
	t.Helper()
	ctx := context.Background()
	ix := testindex.Memory(t, sp)
	rows, err := ix.DB().QueryContext(ctx, "SELECT queue_id, queue, inode, arrival_time, path FROM messages WHERE queue = 'deferred' ORDER BY queue_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ts []mqsql.Target
	for rows.Next() {
		var tg mqsql.Target
		var q string
		if err := rows.Scan(&tg.QueueID, &q, &tg.Inode, &tg.ArrivalTime, &tg.Path); err != nil {
			t.Fatal(err)
		}
		tg.Queue = mqsql.Queue(q)
		ts = append(ts, tg)
	}
	return ts
}

// TestSpoolCopyNotLiveQueue acts on a copy of a spool while Postfix runs: the copy changes by
// direct file operations, the live queue does not.
func TestSpoolCopyNotLiveQueue(t *testing.T) {
	pf := postfixtest.Require(t)
	liveQueue(t, pf, map[string]int{"brief-long@x.test": 2})
	before := byKey(t, pf)
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	r := runMQSQL(t, "", "--spool", dir, "--backup", t.TempDir(), "--yes", "DELETE FROM messages WHERE sender = 'brief-long@x.test'")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 2") || strings.Contains(r.stdout, "postsuper") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !maps(before, byKey(t, pf)) {
		t.Error("acting on a spool copy changed the live queue")
	}
}

// openLiveSpool opens the machine's Postfix queue as mqsql would, closing it when the test ends.
func openLiveSpool(t *testing.T) (*postfix.Spool, postfix.Config) {
	t.Helper()
	cfg, err := postfix.LoadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sp, err := postfix.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp, cfg
}

// TestLiveWriteJSON holds one sender's mail on the real queue with --format json: the
// report's plan is postqueue -j's view of that mail (IDs, queue, sender, arrival time,
// recipients), and its outcomes are what Postfix then shows.
func TestLiveWriteJSON(t *testing.T) {
	pf := postfixtest.Require(t)
	const victim = "json@spam.test"
	liveQueue(t, pf, map[string]int{victim: 4, "keep@ok.test": 3})
	backup := t.TempDir()
	before := byKey(t, pf)
	r := runMQSQL(t, "", "--backup", backup, "--format", "json", "--yes", "UPDATE messages SET queue = 'hold' WHERE sender = '"+victim+"'")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rep := parseReport(t, r.stdout)
	if !rep.Executed || len(rep.Plan) != 1 || rep.Plan[0].Op != mqsql.OpHold || rep.Plan[0].Count != 4 || rep.Counts["done"] != 4 {
		t.Fatalf("report: %+v", rep)
	}
	for _, m := range rep.Plan[0].Messages {
		e, ok := before[m.QueueID]
		var addrs []string
		for _, rc := range e.Recipients {
			addrs = append(addrs, rc.Address)
		}
		slices.Sort(addrs)
		got := slices.Sorted(slices.Values(m.Recipients))
		if !ok || e.Sender != m.Sender || e.QueueName != string(m.Queue) || e.ArrivalTime != m.ArrivalTime || !slices.Equal(addrs, got) {
			t.Errorf("planned %+v, postqueue -j had %+v", m, e)
		}
	}
	after := byKey(t, pf)
	for _, o := range rep.Outcomes {
		if e := after[o.QueueID]; o.Result != mqsql.Applied || e.QueueName != "hold" {
			t.Errorf("outcome %+v, postqueue -j now %+v", o, e)
		}
	}
	if countSender(after, victim, "hold") != 4 {
		t.Errorf("%d held", countSender(after, victim, "hold"))
	}
	sameExcept(t, before, after, victim)
	if rec := lastAudit(t, backup); rec.ID == "" || rec.ID != rep.AuditID {
		t.Errorf("audit ID %q, the audit log's record %+v", rep.AuditID, rec)
	}
}

// TestLiveExpireInOneStatement expires deferred and held mail with one statement on the
// real queue: the messages leave the queue at once and their bounces arrive (from the null
// sender, to the original senders; deferred in turn, as no mail leaves this machine).
func TestLiveExpireInOneStatement(t *testing.T) {
	pf := postfixtest.Require(t)
	const deferred, held = "expire-now@ok.test", "expire-held@ok.test"
	liveQueue(t, pf, map[string]int{deferred: 2, held: 1, "bystander@ok.test": 3})
	backup := t.TempDir()
	r := runMQSQL(t, "", "--backup", backup, "--yes", "UPDATE messages SET queue = 'hold' WHERE sender = '"+held+"'")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 1,") {
		t.Fatalf("hold: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	before := byKey(t, pf)
	expired := append(idsOf(before, deferred), idsOf(before, held)...)
	r = runMQSQL(t, "", "--backup", backup, "--yes",
		"UPDATE messages SET forced_expire = 1, queue = 'active' WHERE sender IN ('"+deferred+"', '"+held+"')")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 6, skipped: 0, failed: 0.") {
		t.Fatalf("expire now: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	bouncesTo := func(q map[string]postfixtest.Entry, addr string) int {
		n := 0
		for id, e := range q {
			if _, old := before[id]; !old && (e.Sender == "" || e.Sender == "MAILER-DAEMON") && len(e.Recipients) == 1 && e.Recipients[0].Address == addr {
				n++
			}
		}
		return n
	}
	waitFor(t, func() bool {
		_ = pf.Settle(context.Background())
		q := byKey(t, pf)
		for _, id := range expired {
			if _, still := q[id]; still {
				return false
			}
		}
		return bouncesTo(q, deferred) == 2 && bouncesTo(q, held) == 1
	})
	bystanders := map[string]postfixtest.Entry{}
	for id, e := range before {
		if e.Sender == "bystander@ok.test" {
			bystanders[id] = e
		}
	}
	sameExcept(t, bystanders, byKey(t, pf), "")
}
