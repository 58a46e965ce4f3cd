package sendmailtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireEnv names the environment variable that turns Require's skips into failures. CI
// sets it to 1 so that a broken Sendmail setup cannot make the suite pass by skipping.
const RequireEnv = "MQSQL_REQUIRE_SENDMAIL"

// RootEnv overrides DefaultRoot, where .ci/sendmail-setup unpacked Sendmail (its SMROOT).
const RootEnv = "MQSQL_SENDMAIL_ROOT"

// DefaultRoot is where .ci/sendmail-setup unpacks Sendmail by default.
const DefaultRoot = "/var/cache/mqsql-ci/sendmail"

// Marker is the VERSIONID .ci/sendmail-setup gives its config. Require refuses a config
// without it: that Sendmail may be somebody's real one.
const Marker = "mqsql sendmail test config"

// Port is where the test config relays all mail (127.0.0.1, never port 25): closed, so a
// queue run defers with "Connection refused", unless a test starts a Peer there.
const Port = 2599

// LockFile is the file Require flocks, so that tests of different packages never use the
// relay port at the same time.
const LockFile = "/run/mqsql-sendmailtest.lock"

// SetupCommand is how a developer enables the Sendmail-backed tests on this machine.
const SetupCommand = "sudo bash .ci/sendmail-setup"

// Sendmail is the unpacked Sendmail with a private queue directory for one test.
type Sendmail struct {
	root  string
	sm    string // the wrapper: private UTS namespace, LD_LIBRARY_PATH, -C the test config
	cf    string // a config of the test's own that replaces it (UseQueueGroups), "" for none
	Queue string // the test's own queue directory (flat, mode 0700)
}

// Require returns the test Sendmail with an empty private queue, or skips the test (fails it
// with MQSQL_REQUIRE_SENDMAIL=1) when .ci/sendmail-setup has not been run or the test is not
// run as root. It holds the cross-process lock until the test ends.
func Require(t testing.TB) *Sendmail {
	t.Helper()
	root := os.Getenv(RootEnv)
	if root == "" {
		root = DefaultRoot
	}
	sm := &Sendmail{root: root, sm: filepath.Join(root, "bin", "sm")}
	if err := sm.probe(); err != nil {
		msg := fmt.Sprintf("sendmailtest: real Sendmail not available: %v\n\tto run these tests: %s (unpacks Debian's Sendmail 8.17 without installing it)", err, SetupCommand)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s\n\t%s=1 makes this a failure", msg, RequireEnv)
		}
		t.Skipf("%s\n\tset %s=1 to make this a failure instead of a skip", msg, RequireEnv)
	}
	lock(t)
	sm.Queue = filepath.Join(t.TempDir(), "mqueue")
	if err := os.Mkdir(sm.Queue, 0o700); err != nil {
		t.Fatal(err)
	}
	return sm
}

// probe checks that the setup is there and is the test one.
func (s *Sendmail) probe() error {
	if os.Geteuid() != 0 {
		return errors.New("not running as root (a private -C config needs root)")
	}
	if _, err := os.Stat(s.sm); err != nil {
		return err
	}
	cf, err := os.ReadFile(filepath.Join(s.root, "cf", "sm-test.cf"))
	if err != nil {
		return err
	}
	if !bytes.Contains(cf, []byte(Marker)) {
		return fmt.Errorf("%s/cf/sm-test.cf lacks %q: not mqsql's test config", s.root, Marker)
	}
	return nil
}

// lock takes LockFile for the rest of the test.
func lock(t testing.TB) {
	f, err := os.OpenFile(LockFile, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatalf("sendmailtest: %v", err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			f.Close()
			t.Fatalf("sendmailtest: timed out waiting for %s", LockFile)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { f.Close() })
}

// UseSubdirectories makes Sendmail keep the queue's files in qf/, df/ and xf/ subdirectories
// (it uses them whenever they exist); call it before queueing mail.
func (s *Sendmail) UseSubdirectories() error {
	for _, d := range []string{"qf", "df", "xf"} {
		if err := os.Mkdir(filepath.Join(s.Queue, d), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// GroupDirs are the queue directories UseQueueGroups makes, relative to the queue, by group:
// "slow" in one directory, "bulk" in two that a q* wildcard names (the second with qf/ and
// df/ subdirectories).
var GroupDirs = map[string][]string{"slow": {"slow"}, "bulk": {"bulk/q1", "bulk/q2"}}

// UseQueueGroups gives the test's queue the queue groups of GroupDirs (Q lines of a config
// of the test's own, written beside the queue), and routes mail to a recipient at
// NAME.example into group NAME (a queuegroup ruleset); other mail stays in the default group,
// the queue directory itself. It returns the config's path, which names the queue as its
// QueueDirectory. Call it before queueing mail.
func (s *Sendmail) UseQueueGroups() (string, error) {
	base, err := os.ReadFile(filepath.Join(s.root, "cf", "sm-test.cf"))
	if err != nil {
		return "", err
	}
	var cf bytes.Buffer
	for _, line := range strings.SplitAfter(string(base), "\n") {
		if strings.HasPrefix(line, "O QueueDirectory=") {
			line = "O QueueDirectory=" + s.Queue + "\n"
		}
		cf.WriteString(line)
	}
	for _, name := range []string{"slow", "bulk"} {
		p := filepath.Join(s.Queue, name)
		if len(GroupDirs[name]) > 1 {
			p = filepath.Join(p, "q*")
		}
		fmt.Fprintf(&cf, "Q%s, P=%s, F=f, R=1\n", name, p)
		for _, d := range GroupDirs[name] {
			if err := os.MkdirAll(filepath.Join(s.Queue, d), 0o700); err != nil {
				return "", err
			}
		}
	}
	for _, sub := range []string{"qf", "df"} {
		if err := os.Mkdir(filepath.Join(s.Queue, "bulk/q2", sub), 0o700); err != nil {
			return "", err
		}
	}
	cf.WriteString("Squeuegroup\nR$* @ slow.example\t$# slow\nR$* @ bulk.example\t$# bulk\n")
	s.cf = filepath.Join(filepath.Dir(s.Queue), "groups.cf")
	return s.cf, os.WriteFile(s.cf, cf.Bytes(), 0o600)
}

// Command returns sendmail with args on the test's queue, in the foreground, with times in
// UTC.
func (s *Sendmail) Command(ctx context.Context, args ...string) *exec.Cmd {
	pre := []string{"-OQueueDirectory=" + s.Queue}
	if s.cf != "" {
		pre = append([]string{"-C", s.cf}, pre...) // the last -C is the one Sendmail reads
	}
	cmd := exec.CommandContext(ctx, s.sm, append(pre, args...)...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	return cmd
}

// Run runs sendmail with args (stdin from in, nil for none) and returns its output.
func (s *Sendmail) Run(ctx context.Context, in []byte, args ...string) (string, error) {
	cmd := s.Command(ctx, args...)
	if in != nil {
		cmd.Stdin = bytes.NewReader(in)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("sendmail %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// RunQueue runs a queue run (args select it: -qI, -qS, ...) in the foreground (-v) and
// returns its transcript. Its exit status is no error: a run that bounced or deferred mail
// exits non-zero (EX_NOUSER, EX_TEMPFAIL) having done its job.
func (s *Sendmail) RunQueue(ctx context.Context, args ...string) (string, error) {
	out, err := s.Command(ctx, append(args, "-v")...).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return string(out), fmt.Errorf("sendmail %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Submit queues one message from the command line (sendmail -odq -f from extra... rcpts),
// as a local program would.
func (s *Sendmail) Submit(ctx context.Context, from string, rcpts []string, msg []byte, extra ...string) error {
	args := append([]string{"-odq", "-f", from}, extra...)
	args = append(append(args, "--"), rcpts...)
	_, err := s.Run(ctx, msg, args...)
	return err
}

// Mailq lists the queue as sendmail -bp -v does, with extra options (-qQ, -qL).
func (s *Sendmail) Mailq(ctx context.Context, extra ...string) ([]Listed, error) {
	out, err := s.Run(ctx, nil, append([]string{"-bp", "-v"}, extra...)...)
	if err != nil {
		return nil, err
	}
	msgs, total, err := ParseMailq(out, true)
	if err != nil {
		return nil, err
	}
	if total != len(msgs) {
		return nil, fmt.Errorf("mailq %v: headers count %d requests, %d listed:\n%s", extra, total, len(msgs), out)
	}
	return msgs, nil
}

// MailqAll is Mailq of the qf, hf (-qQ) and Qf (-qL) files together.
func (s *Sendmail) MailqAll(ctx context.Context) ([]Listed, error) {
	var all []Listed
	for _, extra := range [][]string{nil, {"-qQ"}, {"-qL"}} {
		msgs, err := s.Mailq(ctx, extra...)
		if err != nil {
			return nil, err
		}
		all = append(all, msgs...)
	}
	return all, nil
}
