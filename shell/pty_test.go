package shell_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
	"github.com/mqsql/mqsql/spool/postfix"
)

// childEnv names the spool a re-executed test binary opens a REPL on, in a pseudo-terminal.
const childEnv = "MQSQL_PTY_CHILD_SPOOL"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(replChild(dir))
	}
	os.Exit(m.Run())
}

// replChild is the REPL as mqsql runs it on a terminal, on the spool at dir.
func replChild(dir string) int {
	ctx := context.Background()
	sp, err := postfix.Open(postfix.Config{QueueDirectory: dir, HashQueueNames: []string{"deferred", "defer"}, HashQueueDepth: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ix, err := index.Open(ctx, "")
	if err == nil {
		_, err = ix.Sync(ctx, sp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ix.UseSpool(sp)
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s := &shell.Session{Conn: conn, Out: os.Stdout, Err: os.Stderr, Guard: g,
		Opt: output.Options{Format: output.Table, Headers: true, Escape: true}}
	return shell.REPL(ctx, s, os.Stdin, os.Stdout)
}

// terminal is a REPL running in a pseudo-terminal, and what it has shown.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	seen bytes.Buffer
	pos  int // how far expect has read
	done chan struct{}
}

// startREPL runs the REPL on the spool at dir in a new pseudo-terminal, with its history in
// the file hist.
func startREPL(t *testing.T, dir, hist string) *terminal {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "MQSQL_HISTORY="+hist, "TERM=xterm", "HOME="+t.TempDir())
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatalf("start the REPL in a pseudo-terminal: %v", err)
	}
	term := &terminal{t: t, cmd: cmd, pty: f, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.seen.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return term
}

// expect waits until the terminal shows s after what the last expect matched.
func (term *terminal) expect(s string) {
	term.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		term.mu.Lock()
		shown := term.seen.String()
		term.mu.Unlock()
		if i := strings.Index(shown[term.pos:], s); i >= 0 {
			term.pos += i + len(s)
			return
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the terminal never showed %q; it shows:\n%s", s, shown[term.pos:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// send types keys.
func (term *terminal) send(keys string) {
	term.t.Helper()
	if _, err := term.pty.Write([]byte(keys)); err != nil {
		term.t.Fatal(err)
	}
}

// exit waits for the REPL to end and returns its exit status and all it showed.
func (term *terminal) exit() (int, string) {
	term.t.Helper()
	err := term.cmd.Wait()
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), term.seen.String()
		}
		term.t.Fatal(err)
	}
	return 0, term.seen.String()
}

// TestREPLInTerminal uses the REPL as an admin new to it would, in a real pseudo-terminal:
// Tab completes "sen" to "sender", a statement spans two lines, Ctrl-C clears a half-typed
// statement and cancels a running query without leaving, .mode csv switches the output, .cat
// shows a message, a hostile Subject never reaches the terminal raw, Ctrl-D leaves, and the
// next start finds the history.
func TestREPLInTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts REPLs in pseudo-terminals")
	}
	dir := testSpool(t)
	hist := filepath.Join(t.TempDir(), "history")
	term := startREPL(t, dir, hist)
	term.expect(`Enter ".help" for help`)
	term.expect("mqsql> ")

	term.send("SELECT sen\t")
	term.expect("SELECT sender")
	term.send(" FROM messages WHERE queue = 'hold'\r")
	term.expect("   ...> ")
	term.send("ORDER BY 1;\r")
	term.expect("held-capture@sender.test")
	term.expect("mqsql> ")

	term.send("SELECT 'half\r")
	term.expect("   ...> ")
	term.send("\x03")
	term.expect("mqsql> ")

	term.send("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\r")
	time.Sleep(700 * time.Millisecond)
	term.send("\x03")
	term.expect("Error: interrupted")
	term.expect("mqsql> ")

	term.send(".mode csv\r")
	term.expect("mqsql> ")
	term.send("SELECT queue_id, size FROM messages WHERE queue_id = '" + m3ID + "';\r")
	term.expect(m3ID + ",350")
	term.send("SELECT subject FROM messages WHERE queue_id = '" + hostileID + "';\r")
	term.expect(`\x1b]0;pwned\x07\x1b[2J\u202egnp.exe`)
	term.send(".cat -h " + hostileID + "\r")
	term.expect(`Subject: \x1b]0;pwned\x07\x1b[2J\u202egnp.exe 件名`)
	term.expect("mqsql> ")
	term.send("\x04")
	code, shown := term.exit()
	if code != 0 {
		t.Errorf("exit status %d", code)
	}
	for _, raw := range []string{"\x1b]0;pwned", "\x07\x1b[2J", "\u202e", "\x1b[31m"} {
		if strings.Contains(shown, raw) {
			t.Errorf("the terminal got %q raw", raw)
		}
	}

	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "SELECT sender FROM messages WHERE queue = 'hold' ORDER BY 1;\n") {
		t.Errorf("the two-line statement is not one history entry:\n%s", b)
	}
	if st, err := os.Stat(hist); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("history mode %v, %v; want 0600", st.Mode().Perm(), err)
	}

	// The next start recalls the last command, then the statement before, with the up arrow.
	term = startREPL(t, dir, hist)
	term.expect("mqsql> ")
	term.send("\x1b[A")
	term.expect(".cat -h " + hostileID)
	term.send("\x1b[A")
	term.expect("SELECT subject FROM messages WHERE queue_id = '" + hostileID + "';")
	term.send("\r")
	term.expect("┌") // the new session's table mode
	term.expect("subject")
	term.expect("mqsql> ")
	term.send("quit\r")
	if code, _ := term.exit(); code != 0 {
		t.Errorf("exit status %d after quit", code)
	}
}
