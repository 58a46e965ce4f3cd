package spoolgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
	"golang.org/x/sys/unix"
)

// generate writes a spool of n messages into a temporary directory and returns it with what
// was written, by queue file path.
func generate(t *testing.T, opt Options) (string, map[string]*Message) {
	t.Helper()
	dir := t.TempDir()
	written := map[string]*Message{}
	sum, err := Generate(context.Background(), dir, opt, func(m *Message) error {
		written[m.Path] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Messages != opt.Messages || len(written) != opt.Messages {
		t.Fatalf("wrote %d messages (%d paths), want %d", sum.Messages, len(written), opt.Messages)
	}
	return dir, written
}

// TestReaderAgrees reads a generated spool with mqsql's reader and checks that every message
// reads cleanly and says exactly what the generator wrote.
func TestReaderAgrees(t *testing.T) {
	dir, written := generate(t, Options{Messages: 3000, Seed: 7})
	sp := testspool.Open(t, dir)
	sp.Warn = func(err error) { t.Errorf("spool warning: %v", err) }
	seen := 0
	err := sp.Walk(context.Background(), func(e postfix.Entry) error {
		got, err := sp.Read(e)
		if err != nil {
			return err
		}
		want := written[e.File.Path]
		if want == nil {
			t.Errorf("%s: read, but not generated", e.File.Path)
			return nil
		}
		seen++
		compareMessage(t, got, want)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(written) {
		t.Errorf("the reader found %d of %d messages", seen, len(written))
	}
}

func compareMessage(t *testing.T, got *mqsql.Message, want *Message) {
	t.Helper()
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s (%s): "+format, append([]any{want.Path, want.Kind}, args...)...)
	}
	if got.Error != "" {
		errorf("read with error %q", got.Error)
	}
	if got.QueueID != want.QueueID || string(got.Queue) != want.Queue || got.File.Inode != want.Inode {
		errorf("id/queue/inode %s/%s/%d, want %s/%s/%d", got.QueueID, got.Queue, got.File.Inode, want.QueueID, want.Queue, want.Inode)
	}
	if got.ArrivalTime != want.ArrivalSec || got.Size != want.Size() || got.File.Size != want.FileSize || got.Sender != want.Sender {
		errorf("arrival/size/file size/sender %d/%d/%d/%q, want %d/%d/%d/%q", got.ArrivalTime, got.Size, got.File.Size, got.Sender,
			want.ArrivalSec, want.Size(), want.FileSize, want.Sender)
	}
	if got.NextAttempt != want.MTime || got.File.Mode != want.Mode || got.ForcedExpire != (want.Mode&0o010 != 0) {
		errorf("mtime/mode %d/%o, want %d/%o", got.NextAttempt, got.File.Mode, want.MTime, want.Mode)
	}
	if got.Subject != want.Subject || got.FromHeader != want.From || got.MessageID != want.MessageID {
		errorf("subject/from/message-id %q/%q/%q, want %q/%q/%q", got.Subject, got.FromHeader, got.MessageID, want.Subject, want.From, want.MessageID)
	}
	if got.ClientAddress != want.ClientAddress || got.HeloName != want.HeloName || got.SASLUsername != want.SASLUsername {
		errorf("client/helo/sasl %q/%q/%q, want %q/%q/%q", got.ClientAddress, got.HeloName, got.SASLUsername, want.ClientAddress, want.HeloName, want.SASLUsername)
	}
	if len(got.Recipients) != len(want.Recipients) {
		errorf("%d recipients, want %d", len(got.Recipients), len(want.Recipients))
		return
	}
	for i, r := range want.Recipients {
		g := got.Recipients[i]
		status := mqsql.Pending
		if r.Done {
			status = mqsql.Done
		}
		if g.Address != r.Address || g.OrigAddress != r.Orig || g.Status != status || g.Offset != r.Offset {
			errorf("recipient %d = %q %q %s @%d, want %q %q %s @%d", i, g.Address, g.OrigAddress, g.Status, g.Offset, r.Address, r.Orig, status, r.Offset)
		}
		deferred := r.Deferred && !r.Done
		if g.Deferred != deferred || deferred && (g.DelayReason != r.Reason || g.DSNStatus != r.DSNStatus || g.DiagText != r.DiagText) {
			errorf("recipient %s: deferred %v %q %q %q, want %v %q %q %q", r.Address, g.Deferred, g.DelayReason, g.DSNStatus, g.DiagText,
				deferred, r.Reason, r.DSNStatus, r.DiagText)
		}
	}
}

// TestFilesOnDisk checks what Postfix checks of a queue file: its name encodes its inode
// number, it is complete (owner rwx) and has its mtime, and its defer log is at the hashed
// path with the log's time.
func TestFilesOnDisk(t *testing.T) {
	dir, written := generate(t, Options{Messages: 500, Seed: 3, RetryTime: time.Unix(4102444800, 0)})
	for path, m := range written {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dir, path), &st); err != nil {
			t.Fatal(err)
		}
		if st.Ino != m.Inode || st.Mode&0o7777 != m.Mode || st.Mode&0o700 != 0o700 || st.Mtim.Sec != m.MTime || st.Size != m.FileSize {
			t.Errorf("%s: ino %d mode %o mtime %d size %d; want %d %o %d %d", path, st.Ino, st.Mode&0o7777, st.Mtim.Sec, st.Size, m.Inode, m.Mode, m.MTime, m.FileSize)
		}
		if (m.Queue == "deferred" || m.Queue == "hold") && m.MTime != 4102444800 {
			t.Errorf("%s: retry time %d, want the one asked for", path, m.MTime)
		}
		if m.DeferLog == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, m.DeferLogPath))
		if err != nil || string(b) != m.DeferLog {
			t.Errorf("%s: defer log %v %q", m.DeferLogPath, err, b)
		}
		if want := "defer/" + strings.Split(path, "/")[len(strings.Split(path, "/"))-2] + "/"; m.Queue == "deferred" && !strings.HasPrefix(m.DeferLogPath, want) {
			t.Errorf("%s: defer log at %s, want it under %s", path, m.DeferLogPath, want)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", "*.*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestPopulation checks the shape of a generated queue: what makes it realistic for
// benchmarks (a few senders dominate, several recipients, sizes from about 1 KB to
// megabytes, held mail, bounces, both ID formats, hashed subdirectories).
func TestPopulation(t *testing.T) {
	const n = 5000
	_, written := generate(t, Options{Messages: n, Seed: 11})
	senders := map[string]int{}
	var multi, held, bounces, long, short, postdrop, deferred, big int
	minSize, maxSize := int64(1<<62), int64(0)
	dirs := map[string]bool{}
	for path, m := range written {
		senders[m.Sender]++
		if len(m.Recipients) > 1 {
			multi++
		}
		switch {
		case m.Queue == "hold":
			held++
		case m.Kind == Postdrop:
			postdrop++
		}
		if m.Kind == Bounce && m.Sender == "" {
			bounces++
		}
		if m.LongID {
			long++
		} else {
			short++
		}
		if m.DeferLog != "" {
			deferred++
		}
		minSize, maxSize = min(minSize, m.FileSize), max(maxSize, m.FileSize)
		if m.FileSize > 1<<20 {
			big++
		}
		if m.Queue == "deferred" {
			dirs[filepath.Dir(path)] = true
		}
	}
	top := 0
	for _, c := range senders {
		top = max(top, c)
	}
	checks := []struct {
		what     string
		got      int
		min, max int
	}{
		{"busiest sender's messages", top, n / 10, n / 2},
		{"distinct senders", len(senders), 20, n},
		{"messages with several recipients", multi, n / 5, n * 3 / 5},
		{"held messages", held, n / 20, n / 7},
		{"bounces", bounces, n / 50, n / 10},
		{"short IDs", short, n / 10, n / 3},
		{"long IDs", long, n / 2, n},
		{"postdrop files", postdrop, 1, n / 20},
		{"messages with a defer log", deferred, n / 2, n},
		{"messages over 1 MB", big, 1, n / 50},
		{"hash directories of deferred", len(dirs), 16, 16},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: %d, want %d to %d", c.what, c.got, c.min, c.max)
		}
	}
	if minSize < 600 || minSize > 2048 || maxSize < 1<<20 {
		t.Errorf("file sizes from %d to %d, want from about 1 KB to megabytes", minSize, maxSize)
	}
}

// TestDeterministic checks that a seed gives the same population, apart from the queue IDs
// (which encode inode numbers).
func TestDeterministic(t *testing.T) {
	now := time.Unix(1795865417, 0)
	p1 := newPlanner(&Options{Messages: 10, Seed: 5, Now: now, Deferred: 1, Senders: 20, MedianSize: 3 << 10, MaxSize: 8 << 20})
	p2 := newPlanner(&Options{Messages: 10, Seed: 5, Now: now, Deferred: 1, Senders: 20, MedianSize: 3 << 10, MaxSize: 8 << 20})
	for i := range 10 {
		a, b := p1.plan(i), p2.plan(i)
		a.QueueID, b.QueueID = "X", "X"
		if string(Encode(a)) != string(Encode(b)) {
			t.Fatalf("message %d differs between two planners with one seed", i)
		}
	}
}
