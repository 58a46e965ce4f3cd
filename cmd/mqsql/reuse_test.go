package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/spool/postfix"
)

// shortIDs switches the test Postfix to short queue IDs (which encode only microseconds and
// the inode, so they are reused) until the test ends.
func shortIDs(t *testing.T) {
	t.Helper()
	postconf := func(args ...string) {
		if out, err := exec.Command("postconf", args...).CombinedOutput(); err != nil {
			t.Fatalf("postconf %v: %v %s", args, err, out)
		}
	}
	reload := func() {
		if out, err := exec.Command("postfix", "reload").CombinedOutput(); err != nil {
			t.Fatalf("postfix reload: %v %s", err, out)
		}
		time.Sleep(time.Second)
	}
	postconf("-e", "enable_long_queue_ids = no")
	reload()
	t.Cleanup(func() {
		postconf("-e", "enable_long_queue_ids = yes")
		reload()
	})
}

// TestShortIDReuse plans a delete of a message, lets it leave, and puts a newer message under
// the same short queue ID (as inode reuse does): mqsql must skip it, never delete the newcomer.
func TestShortIDReuse(t *testing.T) {
	pf := postfixtest.Require(t)
	shortIDs(t)
	liveQueue(t, pf, map[string]int{"old@reuse.test": 1})
	ctx := context.Background()
	sp, cfg := openLiveSpool(t)
	targets := planTargets(t, sp)
	if len(targets) != 1 || postfix.IsLongQueueID(targets[0].QueueID) {
		t.Fatalf("targets %+v: want one short-ID message", targets)
	}
	old := targets[0]
	if out, err := pf.Postsuper(ctx, "-d", old.QueueID); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	time.Sleep(1100 * time.Millisecond) // a later arrival second
	if _, err := pf.SendMessage(ctx, &postfixtest.Message{From: "new@reuse.test", To: []string{"b@remote.test"}, Body: []byte("x\n")}); err != nil {
		t.Fatal(err)
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	newcomer := planTargets(t, sp)[0]
	// Give the newcomer the old queue ID, as a reused ID would be.
	oldPath := filepath.Join(cfg.QueueDirectory, old.Path)
	must(t, os.MkdirAll(filepath.Dir(oldPath), 0o700))
	must(t, os.Rename(filepath.Join(cfg.QueueDirectory, newcomer.Path), oldPath))
	var st syscall.Stat_t
	must(t, syscall.Stat(oldPath, &st))
	t.Logf("old %s inode %d arrival %d; newcomer inode %d arrival %d", old.QueueID, old.Inode, old.ArrivalTime, st.Ino, newcomer.ArrivalTime)

	outs := (&postfix.Postsuper{Spool: sp}).Apply(ctx, mqsql.OpDelete, mqsql.Deferred, []mqsql.Target{old})
	if len(outs) != 1 || outs[0].Result != mqsql.Skipped || !strings.Contains(outs[0].Detail, "replaced") {
		t.Errorf("outcome %+v: want skipped as replaced", outs)
	}
	if _, err := os.Stat(oldPath); err != nil {
		t.Errorf("the newcomer under the reused ID was deleted: %v", err)
	}
}
