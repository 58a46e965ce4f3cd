package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/mqsql/mqsql/internal/postfixtest"
)

// ptyREPL is mqsql's REPL running in a pseudo-terminal, as an admin would use it.
type ptyREPL struct {
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  strings.Builder
	seen chan struct{} // receives after each read
	n    int           // queries typed
}

func startREPL(t *testing.T, bin string, args ...string) *ptyREPL {
	t.Helper()
	r := &ptyREPL{cmd: exec.Command(bin, args...), seen: make(chan struct{}, 1)}
	r.cmd.Env = append(os.Environ(), "TERM=xterm", "MQSQL_HISTORY="+filepath.Join(t.TempDir(), "history"))
	tty, err := pty.StartWithSize(r.cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	r.tty = tty
	go r.read()
	t.Cleanup(func() {
		r.tty.Write([]byte{4}) // Ctrl-D
		done := make(chan error, 1)
		go func() { done <- r.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			r.cmd.Process.Kill()
			<-done
		}
		r.tty.Close()
	})
	if !r.waitFor(`mqsql> `, 30*time.Second) {
		t.Fatalf("no prompt; the terminal shows:\n%s", r.text())
	}
	return r
}

func (r *ptyREPL) read() {
	buf := make([]byte, 4096)
	for {
		n, err := r.tty.Read(buf)
		r.mu.Lock()
		r.out.Write(buf[:n])
		r.mu.Unlock()
		select {
		case r.seen <- struct{}{}:
		default:
		}
		if err != nil {
			if err != io.EOF {
				close(r.seen)
			}
			return
		}
	}
}

func (r *ptyREPL) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// waitFor waits until the terminal output matches pattern.
func (r *ptyREPL) waitFor(pattern string, timeout time.Duration) bool {
	re := regexp.MustCompile(pattern)
	deadline := time.After(timeout)
	for !re.MatchString(r.text()) {
		select {
		case _, ok := <-r.seen:
			if !ok {
				return re.MatchString(r.text())
			}
		case <-deadline:
			return false
		}
	}
	return true
}

// count types a count query and returns its answer. Each query is tagged, so that its answer
// is told apart from earlier ones and from the echo of what was typed.
func (r *ptyREPL) count(t *testing.T, where string) int {
	t.Helper()
	r.n++
	tag := fmt.Sprintf("q%d=", r.n)
	fmt.Fprintf(r.tty, "SELECT '%s' || count(*) AS n FROM messages WHERE %s;\r", tag, where)
	re := regexp.MustCompile(regexp.QuoteMeta(tag) + `(\d+)`)
	if !r.waitFor(re.String(), 10*time.Second) {
		t.Fatalf("no answer to query %d; the terminal shows:\n%s", r.n, r.text())
	}
	m := re.FindStringSubmatch(r.text())
	n, _ := strconv.Atoi(m[1])
	return n
}

// dot types a dot-command and waits for output matching want.
func (r *ptyREPL) dot(t *testing.T, cmd, want string) {
	t.Helper()
	fmt.Fprintf(r.tty, "%s\r", cmd)
	if !r.waitFor(want, 10*time.Second) {
		t.Fatalf("%s: no output matching %q; the terminal shows:\n%s", cmd, want, r.text())
	}
}

// until types the count query until it answers want, and returns how long that took.
func (r *ptyREPL) until(t *testing.T, where string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := r.count(t, where)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("after %v the REPL still counts %d, want %d", limit, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestREPLFollowsTheQueue is the acceptance test: a REPL left open in a terminal
// shows 300 messages that arrive while it is open within a second of their landing, and shows
// them gone within a second of their deletion by postsuper.
func TestREPLFollowsTheQueue(t *testing.T) {
	pf, ctx, bin := emptyQueue(t)
	r := startREPL(t, bin)
	const sender, n = "pty@sender.test", 300
	where := "sender = '" + sender + "'"
	if got := r.count(t, where); got != 0 {
		t.Fatalf("the REPL counts %d messages before any was sent", got)
	}

	c, err := pf.Dial(ctx, "pty.client.test")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		id, err := c.Send(ctx, &postfixtest.Message{From: sender, To: []string{fmt.Sprintf("pty%d@remote.test", i)}, BodySize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	c.Quit(ctx) // the last message landed when its 250 came back
	took := r.until(t, where, n, 5*time.Second)
	t.Logf("%d arrivals visible in the REPL %v after the last one landed", n, took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("arrivals took %v to show, want under a second", took)
	}

	if err := pf.Settle(ctx); err != nil { // let them reach deferred, as mail in trouble does
		t.Fatal(err)
	}
	r.dot(t, ".rescan", `The index matches the spool`)
	r.dot(t, ".status", `(?s)watcher: +inotify on \d+ directories.*last change:`)
	args := []string{}
	for _, id := range ids {
		args = append(args, "-d", id)
	}
	if out, err := pf.Postsuper(ctx, args...); err != nil || !strings.Contains(string(out), fmt.Sprintf("Deleted: %d messages", n)) {
		t.Fatalf("postsuper -d: %v: %s", err, out)
	}
	took = r.until(t, where, 0, 5*time.Second)
	t.Logf("%d deletions visible in the REPL %v after postsuper returned", n, took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("deletions took %v to show, want under a second", took)
	}
}
