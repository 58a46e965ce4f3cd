package postfixtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Postfix is a handle on the machine's test Postfix, valid while the test that obtained
// it from Require runs. It holds the cross-process queue lock for that test, so methods
// that change the queue (Reset, injection, Postsuper) are safe from other tests.
type Postfix struct {
	configDir string
	queueDir  string
	tools     map[string]string // command name → absolute path
}

// toolNames are the Postfix programs the harness runs; Require resolves them once so a
// missing one is reported up front instead of in the middle of a test.
var toolNames = []string{"postconf", "postfix", "postsuper", "postqueue", "postcat", "sendmail", "smtp-source"}

// lease is the process-wide record of which test currently holds the queue.
type lease struct {
	name string
	pf   *Postfix
}

var (
	// procSlot admits one test of this process at a time: flock locks belong to open
	// file descriptions, so two tests of one process would otherwise both wait on the
	// file lock forever if one of them is a subtest of the other.
	procSlot = make(chan struct{}, 1)
	holderMu sync.Mutex
	holder   *lease
)

// Require returns the test Postfix, or skips the test (fails it, when MQSQL_REQUIRE_POSTFIX=1)
// if Postfix is not installed, not configured by .ci/postfix-setup, not running, or the
// test is not running as root (the queue and postsuper are root-only). It then takes the
// exclusive queue lock, waiting for tests in other packages, and releases it in
// t.Cleanup. A subtest of the test holding the lock gets the same handle without
// waiting, so helpers may call Require freely.
func Require(t testing.TB) *Postfix {
	t.Helper()
	holderMu.Lock()
	if h := holder; h != nil && (t.Name() == h.name || strings.HasPrefix(t.Name(), h.name+"/")) {
		holderMu.Unlock()
		return h.pf
	}
	holderMu.Unlock()

	deadline := lockDeadline(t)
	pf, err := probe()
	if err != nil && os.Geteuid() == 0 {
		// Another test binary may hold the queue with Postfix stopped on purpose (a benchmark
		// reading the queue offline): wait for the queue, then look again.
		release, lerr := acquire(t, deadline)
		if lerr == nil {
			if pf, err = probe(); err == nil {
				return register(t, pf, release)
			}
			release()
		}
	}
	if err != nil {
		msg := fmt.Sprintf("postfixtest: real Postfix not available: %v\n"+
			"\tto run these tests: %s (configures a local-only Postfix and starts it)", err, SetupCommand)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s\n\t%s=1 makes this a failure", msg, RequireEnv)
		}
		t.Skipf("%s\n\tset %s=1 to make this a failure instead of a skip", msg, RequireEnv)
	}
	release, err := acquire(t, deadline)
	if err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	return register(t, pf, release)
}

// acquire takes this process's test slot and the cross-process queue lock; release gives
// both back.
func acquire(t testing.TB, deadline time.Time) (release func(), err error) {
	select {
	case procSlot <- struct{}{}:
	case <-time.After(time.Until(deadline)):
		return nil, errors.New("timed out waiting for another test of this package to release the Postfix queue")
	}
	f, err := lockFile(t, deadline)
	if err != nil {
		<-procSlot
		return nil, err
	}
	return func() {
		// Closing the descriptor drops the flock.
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
		<-procSlot
	}, nil
}

// register records t as the holder of the queue until it ends.
func register(t testing.TB, pf *Postfix, release func()) *Postfix {
	holderMu.Lock()
	holder = &lease{name: t.Name(), pf: pf}
	holderMu.Unlock()
	t.Cleanup(func() {
		holderMu.Lock()
		holder = nil
		holderMu.Unlock()
		release()
	})
	return pf
}

// lockDeadline is how long Require may wait for the queue: until shortly before the test
// binary's own -timeout would kill it (so the failure names the lock), else 15 minutes.
func lockDeadline(t testing.TB) time.Time {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			return dl.Add(-time.Until(dl) / 10)
		}
	}
	return time.Now().Add(15 * time.Minute)
}

// lockFile opens LockFile and takes an exclusive flock on it, polling so that the wait
// can time out and be reported.
func lockFile(t testing.TB, deadline time.Time) (*os.File, error) {
	t.Helper()
	f, err := os.OpenFile(LockFile, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open queue lock: %w", err)
	}
	start := time.Now()
	lastLog := start
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			if waited := time.Since(start); waited > time.Second {
				t.Logf("postfixtest: waited %v for the Postfix queue lock", waited.Round(time.Millisecond))
			}
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("flock %s: %w", LockFile, err)
		}
		if time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("timed out after %v waiting for %s (another test binary is using Postfix)",
				time.Since(start).Round(time.Second), LockFile)
		}
		if time.Since(lastLog) > 30*time.Second {
			t.Logf("postfixtest: still waiting for %s (held by another test binary)", LockFile)
			lastLog = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probe checks every precondition of Require and builds the handle; its error says
// which precondition failed.
func probe() (*Postfix, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("tests must run as root to manage the Postfix queue")
	}
	pf := &Postfix{tools: map[string]string{}}
	for _, name := range toolNames {
		path, err := lookTool(name)
		if err != nil {
			return nil, err
		}
		pf.tools[name] = path
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pf.tools["postconf"], "-h", "config_directory", "queue_directory").Output()
	if err != nil {
		return nil, fmt.Errorf("postconf -h config_directory queue_directory: %w", err)
	}
	dirs := strings.Fields(string(out))
	if len(dirs) != 2 {
		return nil, fmt.Errorf("postconf -h config_directory queue_directory: unexpected output %q", out)
	}
	pf.configDir, pf.queueDir = dirs[0], dirs[1]
	mainCF := filepath.Join(pf.configDir, "main.cf")
	ok, err := hasMarker(mainCF)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s lacks the line %q: this Postfix was not configured by .ci/postfix-setup "+
			"and may hold real mail, so the harness will not wipe its queue", mainCF, Marker)
	}
	if out, err := exec.CommandContext(ctx, pf.tools["postfix"], "status").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("the mail system is not running (postfix status: %v: %s)", err, bytes.TrimSpace(out))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("the mail system runs but smtpd does not answer on %s: %w", SMTPAddr, err)
	}
	_ = conn.Close()
	return pf, nil
}

// lookTool finds a Postfix program: the sbin directories first, because go test often
// runs with a PATH without /usr/sbin.
func lookTool(name string) (string, error) {
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("program %s not found (is postfix installed?): %w", name, err)
	}
	return p, nil
}

// hasMarker reports whether main.cf contains the Marker line.
func hasMarker(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("read Postfix configuration: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == Marker {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return false, nil
}

// QueueDir returns Postfix's queue_directory (postconf -h queue_directory), the root of the
// spool tree that mqsql reads.
func (p *Postfix) QueueDir() string { return p.queueDir }

// ConfigDir returns Postfix's config_directory, for tests that need to read main.cf.
func (p *Postfix) ConfigDir() string { return p.configDir }

// messageQueues are the queue directories that hold message files.
var messageQueues = []string{"maildrop", "incoming", "active", "deferred", "hold", "corrupt"}

// logQueues are the directories of per-message logs, named like the message.
var logQueues = []string{"defer", "bounce", "trace"}

// Reset deletes every message and per-message log from the queue (postsuper -d ALL, plus
// corrupt/ and trace/, which postsuper does not empty) and waits until the queue stays
// empty: mail still in flight (pickup, cleanup, running deliveries) can land after the
// first sweep, so it sweeps until a quiet period sees nothing. ctx bounds the wait (two
// minutes if ctx has no deadline).
func (p *Postfix) Reset(ctx context.Context) error {
	ctx, cancel := defaultTimeout(ctx, 2*time.Minute)
	defer cancel()
	const quiet = 300 * time.Millisecond
	for {
		if _, err := p.run(ctx, "postsuper", nil, "-d", "ALL"); err != nil {
			return fmt.Errorf("postfixtest: reset queue: %w", err)
		}
		for _, dir := range []string{"corrupt", "trace", "saved"} {
			if err := removeFiles(filepath.Join(p.queueDir, dir)); err != nil {
				return fmt.Errorf("postfixtest: reset queue: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postfixtest: reset queue: %w", ctx.Err())
		case <-time.After(quiet):
		}
		n, err := p.countFiles(append(append([]string{}, messageQueues...), logQueues...)...)
		if err != nil {
			return fmt.Errorf("postfixtest: reset queue: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// removeFiles deletes the regular files below dir (not dir itself or its subdirectories,
// whose owners and modes Postfix expects).
func removeFiles(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", path, err)
		}
		return nil
	})
}

// countFiles counts the non-directory entries below the named queue directories.
func (p *Postfix) countFiles(queues ...string) (int, error) {
	n := 0
	for _, q := range queues {
		err := filepath.WalkDir(filepath.Join(p.queueDir, q), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // moved or deleted by Postfix while we walk
				}
				return err
			}
			if !d.IsDir() {
				n++
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("scan queue %s: %w", q, err)
		}
	}
	return n, nil
}

// snapshot fingerprints the message queues and logs (name, size, mode, mtime of every file)
// and reports how many files sit in the queues that are still moving.
func (p *Postfix) snapshot() (sum uint64, busy int, err error) {
	var lines []string
	all := append(append([]string{}, messageQueues...), logQueues...)
	for _, q := range all {
		moving := q == "maildrop" || q == "incoming" || q == "active"
		err := filepath.WalkDir(filepath.Join(p.queueDir, q), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			if moving {
				busy++
			}
			fi, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					busy++ // something is moving right now
					return nil
				}
				return err
			}
			lines = append(lines, fmt.Sprintf("%s %d %o %d", path, fi.Size(), fi.Mode(), fi.ModTime().UnixNano()))
			return nil
		})
		if err != nil {
			return 0, 0, fmt.Errorf("scan queue %s: %w", q, err)
		}
	}
	sort.Strings(lines)
	h := fnv.New64a()
	for _, l := range lines {
		_, _ = io.WriteString(h, l)
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64(), busy, nil
}

// Settle waits until Postfix has finished with everything injected so far: incoming,
// active and maildrop are empty and no file in the queue has changed for a short quiet
// period. Only then is the queue a stable oracle to compare a reader with. ctx bounds
// the wait (two minutes if ctx has no deadline).
func (p *Postfix) Settle(ctx context.Context) error {
	ctx, cancel := defaultTimeout(ctx, 2*time.Minute)
	defer cancel()
	const (
		quiet = 400 * time.Millisecond
		poll  = 50 * time.Millisecond
	)
	var last uint64
	var stable time.Time
	busy := -1
	for {
		sum, b, err := p.snapshot()
		if err != nil {
			return fmt.Errorf("postfixtest: settle: %w", err)
		}
		busy = b
		now := time.Now()
		switch {
		case busy > 0 || sum != last || stable.IsZero():
			last, stable = sum, now
		case now.Sub(stable) >= quiet:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postfixtest: settle: %d files still in maildrop/incoming/active: %w", busy, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// defaultTimeout gives ctx a deadline if it has none, so that a forgotten timeout cannot
// hang a test binary until go test kills it without saying where.
func defaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// Entry is one message as `postqueue -j` reports it (Postfix 3.7 keys; newer keys such as
// orig_address are ignored). It is the oracle that mqsql's queue reader is compared to.
type Entry struct {
	QueueName    string      `json:"queue_name"`
	QueueID      string      `json:"queue_id"`
	ArrivalTime  int64       `json:"arrival_time"`
	MessageSize  int64       `json:"message_size"`
	ForcedExpire bool        `json:"forced_expire"`
	Sender       string      `json:"sender"`
	Recipients   []Recipient `json:"recipients"`
}

// Recipient is one recipient of an Entry. DelayReason is empty when postqueue omits it
// (recipient not yet tried, or no defer log entry).
type Recipient struct {
	Address     string `json:"address"`
	DelayReason string `json:"delay_reason"`
}

// PostqueueJSON runs `postqueue -j` and decodes its JSON Lines output: what Postfix itself
// says is in the queue.
func (p *Postfix) PostqueueJSON(ctx context.Context) ([]Entry, error) {
	cmd := exec.CommandContext(ctx, p.tools["postqueue"], "-j")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("postfixtest: postqueue -j: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return ParsePostqueueJSON(out)
}

// ParsePostqueueJSON decodes `postqueue -j` output (one JSON object per line), for example
// a saved oracle file such as testdata/spool.postqueue.jsonl.
func ParsePostqueueJSON(data []byte) ([]Entry, error) {
	var entries []Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var e Entry
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return nil, fmt.Errorf("postfixtest: decode postqueue -j output (entry %d): %w", len(entries)+1, err)
		}
		entries = append(entries, e)
	}
}

// Postsuper runs postsuper with args (for example "-h", id) and returns its combined
// output; postsuper reports per-message results on stderr.
func (p *Postfix) Postsuper(ctx context.Context, args ...string) ([]byte, error) {
	return p.run(ctx, "postsuper", nil, args...)
}

// Postqueue runs postqueue with args and returns its combined output.
func (p *Postfix) Postqueue(ctx context.Context, args ...string) ([]byte, error) {
	return p.run(ctx, "postqueue", nil, args...)
}

// Postcat runs postcat with args (for example "-vq", id) and returns its combined output,
// the reference decoding of a queue file.
func (p *Postfix) Postcat(ctx context.Context, args ...string) ([]byte, error) {
	return p.run(ctx, "postcat", nil, args...)
}

// Sendmail runs Postfix's sendmail with args and message on stdin: local submission through
// postdrop, maildrop and pickup, the path SMTP does not exercise (files without a size
// record, recipients from headers with -t). It returns the combined output.
func (p *Postfix) Sendmail(ctx context.Context, args []string, message []byte) ([]byte, error) {
	return p.run(ctx, "sendmail", message, args...)
}

// SMTPSource runs smtp-source with args against 127.0.0.1:25 (the target is appended), the
// fast way to inject bulk mail for load tests. It returns the combined output.
func (p *Postfix) SMTPSource(ctx context.Context, args ...string) ([]byte, error) {
	return p.run(ctx, "smtp-source", nil, append(append([]string{}, args...), "inet:"+SMTPAddr)...)
}

// run executes one of the resolved Postfix tools and wraps a failure with the command line
// and its output.
func (p *Postfix) run(ctx context.Context, tool string, stdin []byte, args ...string) ([]byte, error) {
	path, ok := p.tools[tool]
	if !ok {
		return nil, fmt.Errorf("postfixtest: unknown tool %s", tool)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("postfixtest: %s %s: %w: %s", tool, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// Stop stops the mail system (postfix stop), to test what mqsql does while Postfix is down;
// Start brings it back. The queue lock stays held, so no other test sees it stopped.
func (p *Postfix) Stop(ctx context.Context) error {
	_, err := p.run(ctx, "postfix", nil, "stop")
	return err
}

// Start starts the mail system again and returns once smtpd answers on SMTPAddr.
func (p *Postfix) Start(ctx context.Context) error {
	if _, err := p.run(ctx, "postfix", nil, "start"); err != nil {
		return err
	}
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", SMTPAddr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postfixtest: smtpd does not answer on %s after postfix start: %w", SMTPAddr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Running reports whether postfix status says the mail system runs.
func (p *Postfix) Running(ctx context.Context) bool {
	_, err := p.run(ctx, "postfix", nil, "status")
	return err == nil
}
