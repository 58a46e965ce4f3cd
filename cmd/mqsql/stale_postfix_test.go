package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
)

// watchProcess runs mqsql watch as its own process on the real queue and waits until it is
// ready, so that a test can kill it as an admin (or the OOM killer) would.
func watchProcess(t *testing.T, bin, queueDir, db string) *exec.Cmd {
	t.Helper()
	return watchProcessOf(t, bin, db, "--spool", queueDir, "--db", db)
}

// watchProcessOf is watchProcess with mqsql watch's arguments args, waiting until the watcher
// is ready to keep db.
func watchProcessOf(t *testing.T, bin, db string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"watch"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if info, ok, _ := index.IndexOwner(db); ok && info.State == index.OwnerReady && info.PID == cmd.Process.Pid {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatal("mqsql watch did not become ready")
		}
	}
}

// killWatcher kills the watcher with SIGKILL, so that it cleans nothing up.
func killWatcher(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// sendAndSettle sends n messages through the real Postfix and waits until it is done with them.
func sendAndSettle(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, tag string, n int) {
	t.Helper()
	for i := range n {
		m := &postfixtest.Message{From: tag + "@sender.test", To: []string{fmt.Sprintf("%s%d@remote.test", tag, i)}, Body: []byte("hello\n")}
		if _, err := pf.SendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

// postqueueCount is how many messages postqueue -j lists.
func postqueueCount(ctx context.Context, t *testing.T, pf *postfixtest.Postfix) int {
	t.Helper()
	entries, err := pf.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// pipeReader is a one-shot mqsql reading statements from a pipe: a script that runs while
// things change around it.
type pipeReader struct {
	in     io.WriteCloser
	out    *bufio.Scanner
	mu     sync.Mutex
	stderr bytes.Buffer
}

func startPipeReader(t *testing.T, bin string, args ...string) *pipeReader {
	t.Helper()
	cmd := exec.Command(bin, args...)
	r := &pipeReader{}
	var err error
	if r.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.out = bufio.NewScanner(stdout)
	cmd.Stderr = lockedWriter{&r.mu, &r.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.in.Close(); cmd.Wait() })
	return r
}

// count runs a count query and returns its one-line answer.
func (r *pipeReader) count(t *testing.T) int {
	t.Helper()
	fmt.Fprintln(r.in, "SELECT count(*) FROM messages;")
	if !r.out.Scan() {
		t.Fatalf("no answer; stderr: %s", r.errText())
	}
	n, err := strconv.Atoi(strings.TrimSpace(r.out.Text()))
	if err != nil {
		t.Fatalf("answer %q; stderr: %s", r.out.Text(), r.errText())
	}
	return n
}

func (r *pipeReader) errText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// emptyQueue empties the real queue and builds mqsql, as the tests that run mqsql as its own
// process beside the real Postfix begin; the context ends with the test (5 minutes at most).
func emptyQueue(t *testing.T) (*postfixtest.Postfix, context.Context, string) {
	t.Helper()
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	return pf, ctx, buildMQSQL(t)
}

// watchedQueue empties the real queue, queues three messages and starts mqsql watch on a new
// index file, as both watcher-killing tests begin. The context ends with the test.
func watchedQueue(t *testing.T) (*postfixtest.Postfix, context.Context, string, string, *exec.Cmd) {
	t.Helper()
	pf, ctx, bin := emptyQueue(t)
	db := filepath.Join(t.TempDir(), "idx.db")
	sendAndSettle(ctx, t, pf, "before", 3)
	return pf, ctx, bin, db, watchProcess(t, bin, pf.QueueDir(), db)
}

// TestWatcherKilledUnderScript kills the watcher of an index file while a one-shot reader
// reads it from a pipe; mail arrives after. The reader's counts stay postqueue -j's, and it says
// once, on stderr, that it re-reads the spool from then on.
func TestWatcherKilledUnderScript(t *testing.T) {
	pf, ctx, bin, db, watcher := watchedQueue(t)
	r := startPipeReader(t, bin, "--spool", pf.QueueDir(), "--db", db, "--header=false")
	if got, want := r.count(t), postqueueCount(ctx, t, pf); got != want {
		t.Fatalf("with the watcher running the reader counts %d, postqueue -j %d", got, want)
	}
	killWatcher(t, watcher)
	sendAndSettle(ctx, t, pf, "after", 2)
	for i := range 2 {
		if got, want := r.count(t), postqueueCount(ctx, t, pf); got != want {
			t.Errorf("query %d after the watcher was killed: the reader counts %d, postqueue -j %d", i+1, got, want)
		}
	}
	sendAndSettle(ctx, t, pf, "later", 1)
	if got, want := r.count(t), postqueueCount(ctx, t, pf); got != want {
		t.Errorf("after more mail: the reader counts %d, postqueue -j %d", got, want)
	}
	notice := fmt.Sprintf("mqsql: the watcher that kept %s current (pid %d) has stopped; this run re-reads the spool before each statement from now on", db, watcher.Process.Pid)
	if got := r.errText(); strings.Count(got, notice) != 1 || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr %q; want the one notice %q", got, notice)
	}
}

// TestWatcherKilledUnderREPL kills the watcher of an index file under a REPL open on it; mail
// arrives after. The REPL takes over keeping the file current, says so once, counts what
// postqueue -j lists, and other readers then trust it as the file's watcher.
func TestWatcherKilledUnderREPL(t *testing.T) {
	pf, ctx, bin, db, watcher := watchedQueue(t)
	r := startREPL(t, bin, "--spool", pf.QueueDir(), "--db", db)
	if got, want := r.count(t, "1"), postqueueCount(ctx, t, pf); got != want {
		t.Fatalf("with the watcher running the REPL counts %d, postqueue -j %d", got, want)
	}
	killWatcher(t, watcher)
	sendAndSettle(ctx, t, pf, "after", 2)
	if got, want := r.count(t, "1"), postqueueCount(ctx, t, pf); got != want {
		t.Errorf("after the watcher was killed: the REPL counts %d, postqueue -j %d", got, want)
	}
	sendAndSettle(ctx, t, pf, "later", 1)
	want := postqueueCount(ctx, t, pf)
	r.until(t, "1", want, 5*time.Second)
	notice := fmt.Sprintf("the watcher that kept %s current (pid %d) has stopped; this session keeps it current from now on", db, watcher.Process.Pid)
	if got := r.text(); strings.Count(got, notice) != 1 {
		t.Errorf("the terminal shows the notice %d times, want once:\n%s", strings.Count(got, notice), got)
	}
	r.dot(t, ".status", `(?s)watcher: +inotify on \d+ directories`)
	if info, ok, _ := index.IndexOwner(db); !ok || info.PID != r.cmd.Process.Pid || info.State != index.OwnerReady {
		t.Errorf("after taking over, the file's owner is %+v (held %v), want the REPL's pid %d, ready", info, ok, r.cmd.Process.Pid)
	}
	if got := countQuery(t, pf.QueueDir(), db, "deferred"); got != strconv.Itoa(want) {
		t.Errorf("another reader counts %s deferred, want %d", got, want)
	}
}
