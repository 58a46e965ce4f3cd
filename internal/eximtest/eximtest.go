// Package eximtest runs the real Exim 4.96 that .ci/exim-setup unpacks (never installs) for
// tests: each test gets a private spool that Exim writes with its own commands, and exim -bp
// as the oracle of what is queued. Exim runs from the cache directory with a private config
// and never starts a daemon, so tests need no lock against each other or against Postfix.
package eximtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// DefaultBase is where .ci/exim-setup puts Exim; MQSQL_EXIM_BASE overrides it.
const DefaultBase = "/var/cache/mqsql-ci/exim"

// eximUID is the uid and gid .ci/exim-setup gives the compiled-in Exim user Debian-exim.
const eximUID = 990

// Exim is the unpacked Exim with one private spool.
type Exim struct {
	Base  string
	Spool string
	Split bool
}

// Require returns an Exim with a fresh private spool (split_spool_directory when split),
// removed when the test ends. Without .ci/exim-setup's Exim, or not as root, the test is
// skipped, or fails when MQSQL_REQUIRE_EXIM=1: CI must not pass by skipping.
func Require(t testing.TB, split bool) *Exim {
	t.Helper()
	base := os.Getenv("MQSQL_EXIM_BASE")
	if base == "" {
		base = DefaultBase
	}
	e := &Exim{Base: base, Split: split}
	if err := e.check(); err != nil {
		if os.Getenv("MQSQL_REQUIRE_EXIM") == "1" {
			t.Fatalf("real Exim required (MQSQL_REQUIRE_EXIM=1): %v (run .ci/exim-setup as root)", err)
		}
		t.Skipf("no real Exim: %v (run .ci/exim-setup as root, or set MQSQL_REQUIRE_EXIM=1 to fail)", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	e.Spool = filepath.Join(base, "spools", sanitize(t.Name())+"-"+hex.EncodeToString(rnd[:]))
	if err := os.MkdirAll(filepath.Join(e.Spool, "log"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{e.Spool, filepath.Join(e.Spool, "log")} {
		if err := os.Chown(d, eximUID, eximUID); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(e.Spool) })
	return e
}

func sanitize(name string) string {
	return regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(name, "_")
}

// check reports why the unpacked Exim cannot run here.
func (e *Exim) check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("tests with Exim run as root")
	}
	for _, p := range []string{e.Binary(), e.Config(), filepath.Join(e.libDir(), "libnss_wrapper.so")} {
		if _, err := os.Stat(p); err != nil {
			return err
		}
	}
	return nil
}

// Binary is the unpacked exim4.
func (e *Exim) Binary() string { return filepath.Join(e.Base, "root/usr/sbin/exim4") }

// Config is the private config .ci/exim-setup wrote.
func (e *Exim) Config() string { return filepath.Join(e.Base, "exim.conf") }

func (e *Exim) libDir() string { return filepath.Join(e.Base, "root/usr/lib/x86_64-linux-gnu") }

// Args are the arguments every exim command on this spool starts with: the private config
// and the spool's macros.
func (e *Exim) Args() []string {
	args := []string{"-C", e.Config(), "-DSPOOL=" + e.Spool}
	if e.Split {
		args = append(args, "-DSPLIT=true")
	}
	return args
}

// Env is the environment exim needs: the unpacked libraries and the private passwd that
// holds Debian-exim.
func (e *Exim) Env() []string {
	return append(os.Environ(),
		"LD_LIBRARY_PATH="+e.libDir(),
		"LD_PRELOAD="+filepath.Join(e.libDir(), "libnss_wrapper.so"),
		"NSS_WRAPPER_PASSWD="+filepath.Join(e.Base, "nss/passwd"),
		"NSS_WRAPPER_GROUP="+filepath.Join(e.Base, "nss/group"),
	)
}

// Command is exim with this spool's arguments followed by args.
func (e *Exim) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(e.Binary(), append(e.Args(), args...)...)
	cmd.Env = e.Env()
	return cmd
}

// Run runs exim with args and stdin, and returns its stdout; a failure carries stderr.
func (e *Exim) Run(stdin []byte, args ...string) (string, error) {
	cmd := e.Command(args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("exim %s: %w: %s%s", strings.Join(args, " "), err, errb.String(), out.String())
	}
	return out.String(), nil
}

// MustRun is Run that fails the test on an error.
func (e *Exim) MustRun(t testing.TB, stdin []byte, args ...string) string {
	t.Helper()
	out, err := e.Run(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// MainLog returns the spool's Exim main log, for the report of a failing test.
func (e *Exim) MainLog() string {
	b, err := os.ReadFile(filepath.Join(e.Spool, "log", "mainlog"))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// Exipick runs Exim's exipick on the spool with args and returns the message IDs it prints
// (one per line with -i). exipick reads -H files itself: a second parser independent of
// Exim's, whose order of messages is its own.
func (e *Exim) Exipick(t testing.TB, args ...string) []string {
	t.Helper()
	cmd := exec.Command("perl", append([]string{filepath.Join(e.Base, "root/usr/sbin/exipick"), "--spool", e.Spool}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("exipick %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// OnPath puts a command named exim4 first in PATH for the rest of the test: a script that
// runs this Exim with its private config, spool macros and environment, so that mqsql finds
// it as the installed Exim (exim -bP spool_directory names this spool, and statements run
// its commands) as it would find /usr/sbin/exim4.
func (e *Exim) OnPath(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, kv := range e.Env()[len(os.Environ()):] {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	b.WriteString("exec " + shellQuote(e.Binary()))
	for _, a := range e.Args() {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString(" \"$@\"\n")
	if err := os.WriteFile(filepath.Join(dir, "exim4"), []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Submit queues one message from sender to rcpts without delivering it (exim -odq) and
// returns its ID.
func (e *Exim) Submit(t testing.TB, sender string, rcpts ...string) string {
	t.Helper()
	return e.SubmitMessage(t, []byte("Subject: test message\n\nbody\n"), sender, rcpts...)
}

// SubmitMessage is Submit of the message msg (headers, blank line, body).
func (e *Exim) SubmitMessage(t testing.TB, msg []byte, sender string, rcpts ...string) string {
	t.Helper()
	before := map[string]bool{}
	for _, id := range e.IDs(t) {
		before[id] = true
	}
	e.MustRun(t, msg, append([]string{"-odq", "-f", sender}, rcpts...)...)
	for _, id := range e.IDs(t) {
		if !before[id] {
			return id
		}
	}
	t.Fatal("exim queued no new message")
	return ""
}
