package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
)

// TestDefaultRunReadsTheWatchedCache checks mqsql watch without --db: it keeps the queue's
// cache index, and a default run (no --db) reads that index as it is, as it would a watched
// --db FILE: its .status names the watcher, it sees the watcher's events (which only a
// watcher records), and it builds no temporary index beside the busy cache. Once the watcher
// stops, a default run reads the queue itself again, and the cache's lock is free.
func TestDefaultRunReadsTheWatchedCache(t *testing.T) {
	cache, tmp, queue := cacheTestDirs(t)
	db := filepath.Join(cache, "mqsql", cacheName("postfix", queue))
	stop := startWatchOf(t, db, "--spool", queue)

	held := func(t *testing.T) string {
		t.Helper()
		r := runMQSQL(t, "", "--spool", queue, "--header=false", "SELECT count(*) FROM messages WHERE queue = 'hold'")
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	if got := held(t); got != "1" {
		t.Fatalf("%s held before the move, want 1", got)
	}
	if err := os.Rename(filepath.Join(queue, "hold", "4jc86b0jCBz5bb9"), filepath.Join(queue, "deferred", "1", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); held(t) != "0"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the release did not reach the default run's answer")
		}
	}
	r := runMQSQL(t, ".status\n", "--spool", queue)
	for _, want := range []string{
		"watcher:     kept current by pid " + strconv.Itoa(os.Getpid()) + " (mqsql watch, or a REPL on this file), ready since ",
		"events:      1 rows",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("a default run beside mqsql watch: .status lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the default runs beside the watched cache left %v in TMPDIR", left)
	}

	stop()
	if err := os.Rename(filepath.Join(queue, "deferred", "1", "4jc86b0jCBz5bb9"), filepath.Join(queue, "hold", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	if got := held(t); got != "1" {
		t.Errorf("after the watcher stopped and the message was held again, a default run counts %s held, want 1", got)
	}
	ix, err := index.OpenCache(t.Context(), filepath.Join(cache, "mqsql"), cacheName("postfix", queue))
	if err != nil {
		t.Fatalf("the cache after the watcher and the runs ended: %v", err)
	}
	ix.Close()
}
