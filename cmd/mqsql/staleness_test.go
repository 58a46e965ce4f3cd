package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestWrongSpool checks that a --spool which is not a Postfix queue directory is a usage error
// naming what was expected, for queries and for mqsql watch, instead of an empty answer.
func TestWrongSpool(t *testing.T) {
	queue := testspool.Copy(t, testspool.Dir(t, "spool"))
	empty := t.TempDir()
	partial := t.TempDir()
	for _, q := range []string{"deferred", "hold"} {
		if err := os.Mkdir(filepath.Join(partial, q), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		dir, want string
	}{
		{"/etc", "no maildrop/, incoming/, active/, deferred/, hold/"},
		{filepath.Join(queue, "deferred"), "no maildrop/, incoming/, active/, deferred/, hold/"},
		{empty, "no maildrop/, incoming/, active/, deferred/, hold/"},
		{partial, "no maildrop/, incoming/, active/;"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{
			{"--spool", tt.dir, "SELECT count(*) FROM messages"},
			{"watch", "--spool", tt.dir, "--db", filepath.Join(t.TempDir(), "idx.db")},
		} {
			// On a directory that is no queue, mqsql watch would watch it until stopped.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			var out, errb bytes.Buffer
			r := runResult{run(ctx, args, strings.NewReader(""), &out, &errb), out.String(), errb.String()}
			cancel()
			want := "--spool " + tt.dir + ": not a Postfix queue directory"
			if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q ... %q", args, r.code, r.stdout, r.stderr, want, tt.want)
			}
		}
	}
	if r := runMQSQL(t, "", "--spool", queue, "--header=false", "SELECT count(*) FROM messages"); r.code != 0 || strings.TrimSpace(r.stdout) != "18" {
		t.Errorf("the sample spool: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
}

// startWatch runs mqsql watch in this process on db and waits until it is ready; the returned
// function stops it.
func startWatch(t *testing.T, dir, db string) func() {
	t.Helper()
	return startWatchOf(t, db, "--spool", dir, "--db", db)
}

// startWatchOf runs mqsql watch in this process with args and waits until it is ready to keep
// db; the returned function stops it.
func startWatchOf(t *testing.T, db string, args ...string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &lockedBuffer{}
	go func() { done <- run(ctx, append([]string{"watch"}, args...), nil, &bytes.Buffer{}, logs) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if info, ok, _ := index.IndexOwner(db); ok && info.State == index.OwnerReady {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("mqsql watch did not become ready: %s", logs.String())
		}
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestOneShotStatusOfWatchedIndex checks .status in a script on an index file a watcher keeps:
// it says who keeps it, since when, and when it last changed, instead of "does not follow".
func TestOneShotStatusOfWatchedIndex(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	db := filepath.Join(t.TempDir(), "idx.db")
	startWatch(t, dir, db)
	if err := os.Rename(filepath.Join(dir, "hold", "4jc86b0jCBz5bb9"), filepath.Join(dir, "deferred", "1", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); countQuery(t, dir, db, "hold") != "0"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the move did not reach the index")
		}
	}
	r := runMQSQL(t, ".status\n", "--spool", dir, "--db", db)
	for _, want := range []string{
		"watcher:     kept current by pid " + strconv.Itoa(os.Getpid()) + " (mqsql watch, or a REPL on this file), ready since ",
		"events:      1 rows",
		"messages:    18 (maildrop 1, active 0, incoming 0, deferred 16, hold 0, corrupt 1)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf(".status lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "does not follow") || strings.Contains(r.stdout, "none seen yet") {
		t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestEventsNotice checks that a run no watcher keeps explains, once, why events is empty when
// a statement reads it, and says nothing when a watcher keeps the index or events is not read.
func TestEventsNotice(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	db := filepath.Join(t.TempDir(), "idx.db")
	script := "SELECT count(*) FROM events;\nSELECT * FROM events;\n"
	tests := []struct {
		name, stdin string
		args        []string
		notice      string
	}{
		{"in memory", script, []string{"--spool", dir}, "mqsql: note: events is empty in a run without --db that no watcher keeps"},
		{"file without a watcher", script, []string{"--spool", dir, "--db", db}, "mqsql: note: no watcher keeps " + db},
		{"events not read", "SELECT 'events', count(*) FROM messages; -- events\n", []string{"--spool", dir}, ""},
	}
	for _, tt := range tests {
		r := runMQSQL(t, tt.stdin, tt.args...)
		if r.code != 0 || strings.Count(r.stderr, "mqsql: note:") != strings.Count(tt.notice, "mqsql: note:") || !strings.Contains(r.stderr, tt.notice) {
			t.Errorf("%s: exit %d, stderr %q; want the notice %q once", tt.name, r.code, r.stderr, tt.notice)
		}
	}
	startWatch(t, dir, db)
	if r := runMQSQL(t, script, "--spool", dir, "--db", db); r.code != 0 || r.stderr != "" {
		t.Errorf("with a watcher: exit %d, stderr %q", r.code, r.stderr)
	}
}
