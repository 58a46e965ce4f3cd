package postfix_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// oddSpool is the testdata spool plus what a walk must skip or flag: a file still being
// written, a name that is no queue ID, a symbolic link, a FIFO, a stray directory, a file in
// the wrong hash directory, and a deep hash directory.
func oddSpool(t *testing.T) string {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	write := func(rel string, mode os.FileMode) {
		t.Helper()
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("incoming/4jc7Q04hWyzdZZZ", 0o600)
	write("hold/not-a-queue-id", 0o700)
	write("deferred/0/4jc7PP1W6fzdXSJ", 0o700) // belongs in deferred/3
	write("deferred/3/A/B/4jc7PP1W6fzdXSK", 0o700)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "hold", "4jc7PP1W6fzdXSL")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "hold", "4jc7PP1W6fzdXSM"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "hold", "stray"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// listing is what a walk reports: the entries and the warnings, sorted.
type listing struct {
	entries, warnings []string
}

func walkWith(t *testing.T, dir string, walk func(*postfix.Spool) func(context.Context, func(postfix.Entry) error) error) listing {
	t.Helper()
	sp := openSpool(t, dir)
	var mu sync.Mutex
	var l listing
	sp.Warn = func(err error) { l.warnings = append(l.warnings, err.Error()) }
	err := walk(sp)(context.Background(), func(e postfix.Entry) error {
		m, err := sp.Read(e)
		switch {
		case errors.Is(err, postfix.ErrIncomplete):
			return nil // WalkForRead leaves this check to Read
		case err != nil:
			t.Errorf("read %s: %v", e.File.Path, err)
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		l.entries = append(l.entries, string(e.Queue)+" "+e.QueueID+" "+e.File.Path+" "+e.Misplaced+" "+m.Error)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(l.entries)
	slices.Sort(l.warnings)
	return l
}

// TestParallelWalksAgree checks that the parallel walks list exactly what Walk lists, with the
// same warnings, and that Read gives the same messages for their entries.
func TestParallelWalksAgree(t *testing.T) {
	dir := oddSpool(t)
	want := walkWith(t, dir, func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error { return sp.Walk })
	if len(want.entries) < 18 || len(want.warnings) < 4 {
		t.Fatalf("the odd spool gives %d entries and %d warnings; the test proves little", len(want.entries), len(want.warnings))
	}
	for name, walk := range map[string]func(*postfix.Spool) func(context.Context, func(postfix.Entry) error) error{
		"WalkParallel": func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error { return sp.WalkParallel },
		"WalkForRead":  func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error { return sp.WalkForRead },
		"WalkParallelWithLogs": func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error {
			return sp.WalkParallelWithLogs
		},
	} {
		got := walkWith(t, dir, walk)
		if !slices.Equal(got.entries, want.entries) {
			t.Errorf("%s lists\n%q\nWalk lists\n%q", name, got.entries, want.entries)
		}
		if !slices.Equal(got.warnings, want.warnings) {
			t.Errorf("%s warns\n%q\nWalk warns\n%q", name, got.warnings, want.warnings)
		}
	}
}

// TestWalkForReadIncomplete checks that Read reports a file WalkForRead listed while it was
// still being written as ErrIncomplete, and LogStamps still lists the defer logs.
func TestWalkForReadIncomplete(t *testing.T) {
	dir := oddSpool(t)
	sp := openSpool(t, dir)
	var incomplete []string
	err := sp.WalkForRead(context.Background(), func(e postfix.Entry) error {
		if _, err := sp.Read(e); errors.Is(err, postfix.ErrIncomplete) {
			incomplete = append(incomplete, e.File.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(incomplete)
	if want := []string{"incoming/4jc7Q04hWyzdZZZ", "incoming/4jc7Rz0g2kzdZL3"}; !slices.Equal(incomplete, want) {
		t.Errorf("incomplete files %q, want %q", incomplete, want)
	}
	logs, err := sp.LogStamps(context.Background(), "defer")
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 16 {
		t.Errorf("LogStamps found %d defer logs, want 16", len(logs))
	}
}

// TestIsRelPath checks the walks' allocation-free test of a file's hashed path against
// RelPath, for long and short IDs, odd names and several depths.
func TestIsRelPath(t *testing.T) {
	ids := []string{"4jc7PP1W6fzdXSJ", "343CA43ECDF", "4jc7Q04hWyzdZKs", "ZZZZZZzzzzzzzzzzz0", "4jcBADF1LEz5xx1",
		"a", "ab", "0000000000z1", "zzzzzzzzzzzz", "4jc7PP_W6fzdXSJ", "Q", "0"}
	for _, depth := range []int{0, 1, 2, 3, 6} {
		cfg := postfix.Config{HashQueueNames: []string{"deferred", "defer"}, HashQueueDepth: depth}
		for _, id := range ids {
			for _, q := range []string{"deferred", "hold"} {
				right := cfg.RelPath(q, id)
				if !postfix.IsRelPath(cfg, q, id, right) {
					t.Errorf("depth %d: %s is not where RelPath puts %s", depth, right, id)
				}
				for _, wrong := range []string{q + "/" + id, q + "/0/" + id, q + "/_/" + id, "hold/" + id, right + "x", q + "/" + right} {
					if wrong != right && postfix.IsRelPath(cfg, q, id, wrong) {
						t.Errorf("depth %d: %s taken for %s", depth, wrong, right)
					}
				}
			}
		}
	}
}

// TestWalkInterrupted checks that a walk whose context is cancelled with a cause (as
// signal.NotifyContext cancels on Ctrl-C: "interrupt signal received") reports
// context.Canceled, as the SQL half of a load does, so that callers and people see one error
// for one interruption; a failure of the walk's own callback is still reported as it is.
func TestWalkInterrupted(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	failed := errors.New("callback failed")
	for name, walk := range map[string]func(*postfix.Spool) func(context.Context, func(postfix.Entry) error) error{
		"Walk":         func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error { return sp.Walk },
		"WalkParallel": func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error { return sp.WalkParallel },
		"WalkForRead":  func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error { return sp.WalkForRead },
		"WalkParallelWithLogs": func(sp *postfix.Spool) func(context.Context, func(postfix.Entry) error) error {
			return sp.WalkParallelWithLogs
		},
	} {
		sp := openSpool(t, dir)
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errors.New("interrupt signal received"))
		if err := walk(sp)(ctx, func(postfix.Entry) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("%s, cancelled with a cause: %v, want context.Canceled", name, err)
		}
		if err := walk(sp)(context.Background(), func(postfix.Entry) error { return failed }); !errors.Is(err, failed) {
			t.Errorf("%s, its callback failing: %v, want the callback's error", name, err)
		}
	}
}
