package sendmail_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/spool/sendmail"
	"golang.org/x/sys/unix"
)

// targets reads the queue and returns each message as a plan would target it, by ID.
func targets(t *testing.T, dir string) map[string]mqsql.Target {
	t.Helper()
	out := map[string]mqsql.Target{}
	for id, m := range readAll(t, dir) {
		out[id] = mqsql.Target{QueueID: id, Queue: m.Queue, Inode: m.File.Inode, ArrivalTime: m.ArrivalTime, Path: m.File.Path, Sender: m.Sender}
	}
	return out
}

// holdLock takes the flock a queue runner takes on a control file, until the test ends.
func holdLock(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }

// TestDeleteFileOperations deletes sample messages as sendmail-queue.md §6 says: the control
// file, df and nothing else; a locked message is skipped as active; a replaced one skipped.
func TestDeleteFileOperations(t *testing.T) {
	dir := copyQueue(t, false)
	tg := targets(t, dir)
	x := &sendmail.Executor{Spool: open(t, dir), Sendmail: []string{"/bin/false"}}
	holdLock(t, filepath.Join(dir, "qf6B1Jtwth007632"))
	replaced := tg["6B1Ju3XN007873"]
	replaced.ArrivalTime++
	out := x.Apply(context.Background(), mqsql.OpDelete, mqsql.Incoming,
		[]mqsql.Target{tg["6B1Jtw3U007621"], tg["6B1Jtwth007632"], replaced, tg["6B1Ju3vJ007906"], tg["6B1KaaaA999999"]})
	want := []struct {
		result mqsql.Result
		detail string
	}{
		{mqsql.Applied, "removed qf6B1Jtw3U007621, df6B1Jtw3U007621"},
		{mqsql.Skipped, "active: a queue runner holds it (locked); left alone"},
		{mqsql.Skipped, "replaced: arrival time is 1796154963, was 1796154964"},
		{mqsql.Applied, "removed hf6B1Ju3vJ007906, df6B1Ju3vJ007906"},
		{mqsql.Applied, "removed Qf6B1KaaaA999999, df6B1KaaaA999999"},
	}
	for i, w := range want {
		if out[i].Result != w.result || out[i].Detail != w.detail {
			t.Errorf("%s: %s %q, want %s %q", out[i].QueueID, out[i].Result, out[i].Detail, w.result, w.detail)
		}
	}
	for _, name := range []string{"qf6B1Jtw3U007621", "df6B1Jtw3U007621", "hf6B1Ju3vJ007906", "Qf6B1KaaaA999999"} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s still there", name)
		}
	}
	for _, name := range []string{"qf6B1Jtwth007632", "df6B1Jtwth007632", "qf6B1Ju3XN007873", "df6B1Ju3XN007873"} {
		if !exists(filepath.Join(dir, name)) {
			t.Errorf("%s removed", name)
		}
	}
	if len(readAll(t, dir)) != 9 {
		t.Error("a delete touched other messages")
	}
}

// TestRefusedAndSubstring: statements Sendmail cannot do are refused by name, and a queue
// ID that another one contains is never handed to sendmail -qI, which matches substrings.
func TestRefusedAndSubstring(t *testing.T) {
	dir := copyQueue(t, false)
	b, _ := os.ReadFile(filepath.Join(dir, "qf6B1Jtw3U007621"))
	if err := os.WriteFile(filepath.Join(dir, "qf6B1Jtw3U0076219"), b, 0o640); err != nil {
		t.Fatal(err)
	}
	tg := targets(t, dir)
	x := &sendmail.Executor{Spool: open(t, dir), Sendmail: []string{"/bin/false"}}
	out := x.Apply(context.Background(), mqsql.OpHold, mqsql.Incoming, []mqsql.Target{tg["6B1Jtw3U007621"]})
	if out[0].Result != mqsql.Skipped || !strings.Contains(out[0].Detail, "would also select 6B1Jtw3U0076219") {
		t.Errorf("substring: %s %q", out[0].Result, out[0].Detail)
	}
	for _, op := range []mqsql.Op{mqsql.OpRequeue, mqsql.OpExpireRelease} {
		out := x.Apply(context.Background(), op, mqsql.Incoming, []mqsql.Target{tg["6B1Ju3lg007895"]})
		if out[0].Result != mqsql.Failed || !strings.Contains(out[0].Detail, "Sendmail has no equivalent of "+string(op)) ||
			!strings.Contains(x.Command(op, mqsql.Incoming), "can DELETE") {
			t.Errorf("%s: %s %q", op, out[0].Result, out[0].Detail)
		}
	}
	offline := &sendmail.Executor{Spool: x.Spool, Offline: true}
	out = offline.Apply(context.Background(), mqsql.OpHold, mqsql.Incoming, []mqsql.Target{tg["6B1Ju3lg007895"]})
	if out[0].Result != mqsql.Failed || !strings.Contains(out[0].Detail, "hold needs the Sendmail that runs on this queue") {
		t.Errorf("offline hold: %s %q", out[0].Result, out[0].Detail)
	}
	if !exists(filepath.Join(dir, "qf6B1Ju3lg007895")) {
		t.Error("a refused statement changed the queue")
	}
}

// TestExecutorRealSendmail runs every statement on a real Sendmail queue and checks each with
// mailq before and after: hold (quarantine), release, flush, delete, and a delete of a
// message a queue runner holds, which is skipped while nothing else changes.
func TestExecutorRealSendmail(t *testing.T) {
	sm := sendmailtest.Require(t)
	ctx := context.Background()
	for i, from := range []string{"a@sender.example", "b@sender.example", "c@sender.example", "d@sender.example", "e@sender.example"} {
		msg := []byte("Subject: exec " + from + "\n\nbody " + strings.Repeat("x", i) + "\n")
		if err := sm.Submit(ctx, from, []string{"rcpt@dest.example"}, msg); err != nil {
			t.Fatal(err)
		}
	}
	bySender := func(extra ...string) map[string]sendmailtest.Listed {
		t.Helper()
		l, err := sm.Mailq(ctx, extra...)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]sendmailtest.Listed{}
		for _, m := range l {
			out[m.Sender] = m
		}
		return out
	}
	before := bySender()
	if len(before) != 5 {
		t.Fatalf("mailq lists %d messages before, want 5", len(before))
	}
	tg := map[string]mqsql.Target{}
	for _, target := range targets(t, sm.Queue) {
		tg[target.Sender] = target
	}
	sp := open(t, sm.Queue)
	x := &sendmail.Executor{Spool: sp, Sendmail: []string{sm.Command(ctx).Path, "-OQueueDirectory=" + sm.Queue}}
	apply := func(op mqsql.Op, target mqsql.Target, want mqsql.Result) {
		t.Helper()
		out := x.Apply(ctx, op, target.Queue, []mqsql.Target{target})
		if len(out) != 1 || out[0].Result != want {
			t.Fatalf("%s %s: %+v, want %s", op, target.Sender, out, want)
		}
		t.Logf("%s %s: %s (%s)", op, target.QueueID, out[0].Result, out[0].Detail)
	}

	apply(mqsql.OpHold, tg["a@sender.example"], mqsql.Applied)
	held := bySender("-qQ")
	if held["a@sender.example"].Quarantine != sendmail.HoldReason || len(held) != 1 || len(bySender()) != 4 {
		t.Errorf("after hold: -qQ lists %v, -bp %d", held, len(bySender()))
	}
	released := tg["a@sender.example"]
	released.Queue, released.Path = mqsql.Hold, "hf"+released.QueueID
	// -qI without -qQ selects no quarantined mail: a flush that Sendmail silently skips
	// must not be reported done.
	apply(mqsql.OpFlush, released, mqsql.Failed)
	apply(mqsql.OpRelease, released, mqsql.Applied)
	if len(bySender("-qQ")) != 0 || len(bySender()) != 5 {
		t.Error("after release: still quarantined")
	}

	apply(mqsql.OpFlush, tg["b@sender.example"], mqsql.Applied)
	if m := bySender()["b@sender.example"]; m.Message != "Deferred: Connection refused by [127.0.0.1]" {
		t.Errorf("after flush: %+v", m)
	}

	apply(mqsql.OpDelete, tg["c@sender.example"], mqsql.Applied)
	after := bySender()
	if _, ok := after["c@sender.example"]; ok || len(after) != 4 || exists(filepath.Join(sm.Queue, "df"+tg["c@sender.example"].QueueID)) {
		t.Errorf("after delete: mailq %v", after)
	}

	d := tg["d@sender.example"]
	holdLock(t, filepath.Join(sm.Queue, d.Path))
	sp.ForgetLocks()
	apply(mqsql.OpDelete, d, mqsql.Skipped)
	locked := bySender()
	if m, ok := locked["d@sender.example"]; !ok || m.Status != '*' || len(locked) != 4 {
		t.Errorf("after the delete of a locked message: mailq %v", locked)
	}
	if m := readAll(t, sm.Queue)[d.QueueID]; m == nil || m.Queue != mqsql.Active {
		t.Errorf("mailq marks it locked (*), the driver reads %+v", m)
	}

	time.Sleep(1100 * time.Millisecond) // past the one-second return timeout expire uses
	apply(mqsql.OpExpire, tg["e@sender.example"], mqsql.Applied)
	expired := bySender()
	if _, ok := expired["e@sender.example"]; ok {
		t.Error("after expire: the message is still queued")
	}
	if dsn, ok := expired["MAILER-DAEMON"]; !ok || len(dsn.Recipients) != 1 || dsn.Recipients[0].Address != "e@sender.example" {
		t.Errorf("after expire: no bounce to the sender: %v", expired)
	}
}
