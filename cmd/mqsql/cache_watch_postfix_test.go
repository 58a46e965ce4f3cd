package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDefaultRunFollowsWatchOnPostfix runs mqsql watch without --db on the real queue, as a
// process of its own, and checks that default runs answer from the cache index it keeps: they
// count what postqueue -j lists while mail arrives, their .status names the watcher, and the
// arrivals in their events table are the ones the watcher saw; a DELETE and a restore without
// --db tell the watcher why the mail left and came back.
func TestDefaultRunFollowsWatchOnPostfix(t *testing.T) {
	pf, ctx, bin := emptyQueue(t)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // the watcher process inherits it
	sendAndSettle(ctx, t, pf, "before", 2)
	db := filepath.Join(cache, "mqsql", cacheName("postfix", pf.QueueDir()))
	watcher := watchProcessOf(t, bin, db, "--spool", pf.QueueDir())

	query := func(t *testing.T, sql string) string {
		t.Helper()
		r := runMQSQL(t, "", "--spool", pf.QueueDir(), "--header=false", sql)
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", sql, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	await := func(t *testing.T, sql, want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); query(t, sql) != want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("a default run beside the watcher answers %s to %s, want %s", query(t, sql), sql, want)
			}
		}
	}
	sendAndSettle(ctx, t, pf, "after", 3)
	await(t, "SELECT count(*) FROM messages", strconv.Itoa(postqueueCount(ctx, t, pf)))
	if got := query(t, "SELECT count(DISTINCT queue_id) FROM events WHERE event = 'arrived' AND sender = 'after@sender.test'"); got != "3" {
		t.Errorf("a default run reads %s arrivals of the watcher's 3", got)
	}
	r := runMQSQL(t, ".status\n", "--spool", pf.QueueDir())
	if want := "kept current by pid " + strconv.Itoa(watcher.Process.Pid) + " (mqsql watch"; !strings.Contains(r.stdout, want) {
		t.Errorf(".status of a default run lacks %q:\n%s%s", want, r.stdout, r.stderr)
	}

	// A delete and a restore without --db tell the watcher why the mail moves.
	backup := t.TempDir()
	r = runMQSQL(t, "", "--spool", pf.QueueDir(), "--backup", backup, "--yes", "DELETE FROM messages WHERE sender = 'after@sender.test'")
	if r.code != exitOK || !strings.Contains(r.stdout, "Done: 3, skipped: 0, failed: 0.") {
		t.Fatalf("delete: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	await(t, "SELECT count(*) FROM events WHERE event = 'left' AND reason = 'deleted by mqsql'", "3")
	folders, _ := filepath.Glob(filepath.Join(backup, "2*"))
	if len(folders) != 1 {
		t.Fatalf("backup folders %v", folders)
	}
	r = runMQSQL(t, "", "restore", "--spool", pf.QueueDir(), "--backup", backup, folders[0])
	if r.code != exitOK || len(restoredPairs(r.stdout)) != 3 || r.stderr != "" {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	await(t, "SELECT count(*) FROM events WHERE event = 'arrived' AND reason = 'restored by mqsql'", "3")
}

// TestDefaultRunFollowsDefaultREPLOnPostfix opens a REPL without --db on the real queue: it
// keeps the queue's cache index current while it is open, so a default run beside it reads
// that index as it is (its .status names the REPL's pid) instead of indexing the queue afresh,
// and counts what postqueue -j lists.
func TestDefaultRunFollowsDefaultREPLOnPostfix(t *testing.T) {
	pf, ctx, bin := emptyQueue(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the REPL's process inherits it
	sendAndSettle(ctx, t, pf, "before", 2)
	r := startREPL(t, bin, "--spool", pf.QueueDir())
	sendAndSettle(ctx, t, pf, "after", 2)
	want := postqueueCount(ctx, t, pf)
	r.until(t, "1", want, 5*time.Second)

	run := runMQSQL(t, ".status\n", "--spool", pf.QueueDir())
	if s := "kept current by pid " + strconv.Itoa(r.cmd.Process.Pid) + " (mqsql watch, or a REPL"; !strings.Contains(run.stdout, s) {
		t.Errorf(".status of a default run beside the REPL lacks %q:\n%s%s", s, run.stdout, run.stderr)
	}
	run = runMQSQL(t, "", "--spool", pf.QueueDir(), "--header=false", "SELECT count(*) FROM messages")
	if got := strings.TrimSpace(run.stdout); run.code != exitOK || got != strconv.Itoa(want) {
		t.Errorf("a default run beside the REPL: exit %d, %q messages, postqueue -j %d; %s", run.code, got, want, run.stderr)
	}
}
