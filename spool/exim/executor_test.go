package exim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/eximtest"
	"github.com/mqsql/mqsql/spool/exim"
)

// submit queues one message to rcpts and returns its ID.
func submit(t *testing.T, e *eximtest.Exim, rcpts ...string) string {
	t.Helper()
	before := map[string]bool{}
	for _, id := range e.IDs(t) {
		before[id] = true
	}
	e.MustRun(t, []byte("Subject: executor test\n\nbody\n"), append([]string{"-odq", "-f", "op@mqsql.test"}, rcpts...)...)
	for _, id := range e.IDs(t) {
		if !before[id] {
			return id
		}
	}
	t.Fatal("no new message in the spool")
	return ""
}

// target reads message id as the index would have it matched.
func target(t *testing.T, sp *exim.Spool, id string) mqsql.Target {
	t.Helper()
	for _, m := range readAll(t, sp) {
		if m.QueueID == id {
			return mqsql.Target{QueueID: id, Queue: m.Queue, Inode: m.File.Inode, ArrivalTime: m.ArrivalTime, Path: m.File.Path, Sender: m.Sender}
		}
	}
	t.Fatalf("%s not in the spool", id)
	return mqsql.Target{}
}

// bpState is how exim -bp shows message id: "" when not listed, "frozen" or "queued".
// queue names the named queue to list (exim -qGqueue -bp), "" the default one.
func bpState(t *testing.T, e *eximtest.Exim, id string, queue ...string) string {
	t.Helper()
	args := []string{"-bp"}
	if len(queue) > 0 && queue[0] != "" {
		args = []string{"-qG" + queue[0], "-bp"}
	}
	for _, m := range listBP(t, e, args...) {
		if m.ID == id {
			if m.Frozen {
				return "frozen"
			}
			return "queued"
		}
	}
	return ""
}

// TestExecutorOnRealExim carries out each operation with exim's own commands on a real
// spool, in the default queue and in a named queue (where exim acts only with -qG), checked
// with exim -bp (-qGslowq -bp) before and after.
func TestExecutorOnRealExim(t *testing.T) {
	e := eximtest.Require(t, false)
	sp := openSpool(t, e.Spool)
	x := &exim.Executor{Spool: sp, Exim: e.Binary(), Args: e.Args(), Env: e.Env()}
	tests := []struct {
		op            mqsql.Op
		prepare       []string // exim options run on the message first
		named         string   // the named queue the message is moved to first
		before, after string
		result        mqsql.Result
	}{
		{mqsql.OpDelete, nil, "", "queued", "", mqsql.Applied},
		{mqsql.OpHold, nil, "", "queued", "frozen", mqsql.Applied},
		{mqsql.OpRelease, []string{"-Mf"}, "", "frozen", "queued", mqsql.Applied},
		{mqsql.OpFlush, []string{"-Mf"}, "", "frozen", "queued", mqsql.Applied},
		{mqsql.OpExpire, nil, "", "queued", "", mqsql.Applied},
		{mqsql.OpExpireRelease, []string{"-Mf"}, "", "frozen", "", mqsql.Applied},
		{mqsql.OpRequeue, nil, "", "queued", "queued", mqsql.Failed},
		{mqsql.OpDelete, nil, "slowq", "queued", "", mqsql.Applied},
		{mqsql.OpHold, nil, "slowq", "queued", "frozen", mqsql.Applied},
		{mqsql.OpRelease, []string{"-Mf"}, "slowq", "frozen", "queued", mqsql.Applied},
		{mqsql.OpFlush, nil, "slowq", "queued", "queued", mqsql.Applied},
		{mqsql.OpExpire, nil, "slowq", "queued", "", mqsql.Applied},
	}
	for _, tt := range tests {
		t.Run(string(tt.op)+" "+tt.named, func(t *testing.T) {
			id := submit(t, e, "x@remote.test")
			for _, opt := range tt.prepare {
				e.MustRun(t, nil, opt, id)
			}
			if tt.named != "" {
				e.MustRun(t, nil, "-MG", tt.named, id)
			}
			if got := bpState(t, e, id, tt.named); got != tt.before {
				t.Fatalf("before: exim -bp shows %q, want %q", got, tt.before)
			}
			out := x.Apply(context.Background(), tt.op, "", []mqsql.Target{target(t, sp, id)})
			if len(out) != 1 || out[0].Result != tt.result {
				t.Fatalf("outcome %+v, want %s", out, tt.result)
			}
			if got := bpState(t, e, id, tt.named); got != tt.after {
				t.Errorf("after: exim -bp shows %q, want %q (%s)\nmain log:\n%s", got, tt.after, out[0].Detail, e.MainLog())
			}
		})
	}
}

// TestExecutorRecheck skips a message Exim rewrote after it was matched, and one that left.
func TestExecutorRecheck(t *testing.T) {
	e := eximtest.Require(t, false)
	sp := openSpool(t, e.Spool)
	x := &exim.Executor{Spool: sp, Exim: e.Binary(), Args: e.Args(), Env: e.Env()}
	changed := submit(t, e, "c@remote.test")
	gone := submit(t, e, "g@remote.test")
	tc, tg := target(t, sp, changed), target(t, sp, gone)
	e.MustRun(t, nil, "-Mf", changed)
	e.MustRun(t, nil, "-Mrm", gone)
	out := x.Apply(context.Background(), mqsql.OpDelete, "", []mqsql.Target{tc, tg})
	if out[0].Result != mqsql.Skipped || !strings.Contains(out[0].Detail, "changed") {
		t.Errorf("rewritten message: %+v", out[0])
	}
	if out[1].Result != mqsql.Skipped || !strings.Contains(out[1].Detail, "gone") {
		t.Errorf("removed message: %+v", out[1])
	}
	if bpState(t, e, changed) != "frozen" {
		t.Errorf("the rewritten message was touched")
	}
}

// TestExecutorSkipsLocked deletes a message while a delivery holds its lock (a pipe that
// sleeps): it is skipped as active and exim -bp still lists it; the driver reads it as active.
func TestExecutorSkipsLocked(t *testing.T) {
	e := eximtest.Require(t, false)
	sp := openSpool(t, e.Spool)
	x := &exim.Executor{Spool: sp, Exim: e.Binary(), Args: e.Args(), Env: e.Env()}
	id := submit(t, e, "s@slow.test")
	tg := target(t, sp, id)
	delivery := e.Command("-M", id)
	if err := delivery.Start(); err != nil {
		t.Fatal(err)
	}
	defer delivery.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for target(t, sp, id).Queue != mqsql.Active {
		if time.Now().After(deadline) {
			t.Fatal("the delivery never took the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Planned before the delivery started: the re-check passes the inode, Exim refuses the lock.
	tg.Queue = mqsql.Deferred
	out := x.Apply(context.Background(), mqsql.OpDelete, "", []mqsql.Target{tg})
	if out[0].Result != mqsql.Skipped || !strings.Contains(out[0].Detail, "active") {
		t.Errorf("locked message: %+v", out[0])
	}
	if bpState(t, e, id) == "" {
		t.Errorf("exim -bp no longer lists the locked message")
	}
}

// TestExecutorReadsEximOutput runs a stand-in for exim that answers as Exim does when a
// delivery took the lock between the re-check and the command, and when it fails: the first
// is skipped as active, the second failed with Exim's words.
func TestExecutorReadsEximOutput(t *testing.T) {
	dir := copyMessage(t, "testdata/exim/spool", plainID)
	sp := openSpool(t, dir)
	tests := []struct {
		said   string
		result mqsql.Result
		detail string
	}{
		{"Message " + plainID + " is locked", mqsql.Skipped, "active"},
		{"Message " + plainID + " is not frozen", mqsql.Failed, "is not frozen"},
		{"Message " + plainID + " is now frozen", mqsql.Applied, "is now frozen"},
	}
	for _, tt := range tests {
		script := t.TempDir() + "/exim"
		writeScript(t, script, "#!/bin/sh\necho '"+tt.said+"'\nexit 1\n")
		x := &exim.Executor{Spool: sp, Exim: script}
		out := x.Apply(context.Background(), mqsql.OpHold, "", []mqsql.Target{target(t, sp, plainID)})
		if out[0].Result != tt.result || !strings.Contains(out[0].Detail, tt.detail) {
			t.Errorf("exim said %q: %+v, want %s with %q", tt.said, out[0], tt.result, tt.detail)
		}
	}
	if got := (&exim.Executor{}).Command(mqsql.OpRequeue, mqsql.Deferred); !strings.HasPrefix(got, "refused: exim has no requeue") {
		t.Errorf("Command(requeue) = %q", got)
	}
}
