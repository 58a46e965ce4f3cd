package maillog_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/maillog"
	"github.com/mqsql/mqsql/spool/postfix"
)

// TestFollowAcrossLogrotate follows a log while Debian's logrotate renames it (create), then
// copies and truncates it (copytruncate) with lines written just before each, and while the
// follower is stopped and started again: every status= line is one deliveries row, none
// lost, none twice.
func TestFollowAcrossLogrotate(t *testing.T) {
	bin, err := exec.LookPath("logrotate")
	if err != nil {
		t.Skip("logrotate not installed (apt-get install logrotate)")
	}
	all, _, _, statuses := halves(t)
	parts := splitLines(all, 6)
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	r, ix := newReader(t, &postfix.Driver{})
	stop := follow(t, r, log)
	appendTo(t, log, parts[0])
	waitDeliveries(t, ix, parts[:1])
	appendTo(t, log, parts[1]) // perhaps read before the rename, perhaps after: once either way
	rotate(t, bin, dir, "create")
	appendTo(t, log, parts[2])
	waitDeliveries(t, ix, parts[:3])
	appendTo(t, log, parts[3])
	rotate(t, bin, dir, "copytruncate")
	appendTo(t, log, parts[4])
	waitDeliveries(t, ix, parts[:5])
	stop()
	appendTo(t, log, parts[5]) // while no follower runs
	stop = follow(t, r, log)
	defer stop()
	waitDeliveries(t, ix, parts)
	if got := count(t, ix, "SELECT count(*) FROM deliveries"); got != statuses {
		t.Fatalf("%d deliveries, want %d", got, statuses)
	}
}

// follow starts a follower of log; the returned function stops it and waits.
func follow(t *testing.T, r *maillog.Reader, log string) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Follow(ctx, log, func(err error) { t.Errorf("follow: %v", err) })
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }
}

// rotate runs logrotate -f on dir/mail.log with the given mode (create, copytruncate).
func rotate(t *testing.T, bin, dir, mode string) {
	t.Helper()
	conf := filepath.Join(dir, "logrotate.conf")
	text := filepath.Join(dir, "mail.log") + " {\n\trotate 5\n\t" + mode + "\n\tmissingok\n}\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-f", "-s", filepath.Join(dir, "state"), conf).CombinedOutput(); err != nil {
		t.Fatalf("logrotate: %v %s", err, out)
	}
}

func appendTo(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

// splitLines cuts data into n parts at line boundaries.
func splitLines(data []byte, n int) [][]byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var parts [][]byte
	per := (len(lines) + n - 1) / n
	for i := 0; i < len(lines); i += per {
		parts = append(parts, bytes.Join(lines[i:min(i+per, len(lines))], nil))
	}
	return parts
}

// waitDeliveries waits until deliveries holds one row per status= line of parts.
func waitDeliveries(t *testing.T, ix *index.Index, parts [][]byte) {
	t.Helper()
	want := len(statusLine.FindAll(bytes.Join(parts, nil), -1))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := count(t, ix, "SELECT count(*) FROM deliveries")
		if got == want {
			return
		}
		if got > want || time.Now().After(deadline) {
			t.Fatalf("%d deliveries, want %d", got, want)
		}
	}
}
