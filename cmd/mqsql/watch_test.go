package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// buildMQSQL builds the command into a temporary directory, for tests that need it as a
// separate process (signals, a terminal).
func buildMQSQL(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mqsql")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// countQuery asks an index file how many messages it has in a queue, as a separate
// invocation would.
func countQuery(t *testing.T, dir, db, queue string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--spool", dir, "--db", db, "--header=false",
		"SELECT count(*) FROM messages WHERE queue = '" + queue + "'"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// TestReaderTrustsLiveOwner checks that a reader of an index file owned by a live, ready
// watcher does not rescan: it answers from the index as it is, even when the spool changed.
// Without an owner it reconciles the file itself.
func TestReaderTrustsLiveOwner(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	db := filepath.Join(t.TempDir(), "idx.db")
	if got := countQuery(t, dir, db, "hold"); got != "1" {
		t.Fatalf("hold count %s, want 1", got)
	}
	owner, err := index.ClaimIndex(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.SetState(index.OwnerReady); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "hold", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	if got := countQuery(t, dir, db, "hold"); got != "1" {
		t.Errorf("with a live owner the reader rescanned: hold count %s, want the index's 1", got)
	}
	owner.Release()
	if got := countQuery(t, dir, db, "hold"); got != "0" {
		t.Errorf("without an owner the reader did not reconcile: hold count %s, want 0", got)
	}
}

// TestWatchCommand runs mqsql watch as a process on a copy of the sample spool: other
// invocations see changes to the spool at once through the index file, and SIGTERM stops
// it cleanly.
func TestWatchCommand(t *testing.T) {
	bin := buildMQSQL(t)
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	db := filepath.Join(t.TempDir(), "idx.db")
	cmd := exec.Command(bin, "watch", "--spool", dir, "--db", db)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var logMu sync.Mutex
	var log strings.Builder
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(sc.Text(), "ready:") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("mqsql watch did not become ready")
	}
	if _, err := index.ClaimIndex(db); err == nil {
		t.Error("the index could be claimed while mqsql watch runs")
	}
	if err := os.Rename(filepath.Join(dir, "hold", "4jc86b0jCBz5bb9"), filepath.Join(dir, "deferred", "1", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for countQuery(t, dir, db, "hold") != "0" {
		if time.Now().After(deadline) {
			t.Fatal("a move did not reach the index within a second")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var events bytes.Buffer
	run(context.Background(), []string{"--spool", dir, "--db", db, "--header=false",
		"SELECT event, from_queue, to_queue FROM events WHERE queue_id = '4jc86b0jCBz5bb9'"}, nil, &events, os.Stderr)
	if got := strings.TrimSpace(events.String()); got != "moved,hold,deferred" {
		t.Errorf("events say %q, want moved,hold,deferred", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("mqsql watch after SIGTERM: %v", err)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(log.String(), "stopping") {
		t.Errorf("log does not say it stopped:\n%s", log.String())
	}
	if _, ok, _ := index.IndexOwner(db); ok {
		t.Error("the index is still owned after mqsql watch exited")
	}
}

// TestWatchUsage checks the subcommand's usage errors.
func TestWatchUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"watch", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"watch", "--db", "x.db", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"watch", "--help"}, exitOK, "Usage: mqsql watch"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tt.args, nil, &out, &errb); code != tt.code || !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.stderr)
		}
	}
}
