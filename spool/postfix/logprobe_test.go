package postfix_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// TestWalkWithLogsMatchesListing checks that the log stamps WalkParallelWithLogs takes as it
// walks are those a listing of defer/ gives for each message (zero for none), and that it
// warns about the same odd logs and log directories as the listing does, whatever is odd about the logs and
// however the queue is hashed.
func TestWalkWithLogsMatchesListing(t *testing.T) {
	hashed := postfix.Config{HashQueueNames: []string{"deferred", "defer"}, HashQueueDepth: 1}
	cases := []struct {
		name  string
		cfg   postfix.Config
		odd   func(t *testing.T, dir string)
		warns int // warnings about logs, at least
	}{
		{name: "as Postfix wrote it", cfg: hashed},
		{name: "a log is a symbolic link", cfg: hashed, warns: 1, odd: func(t *testing.T, dir string) {
			replaceWith(t, filepath.Join(dir, "defer/3/4jc7PP1W6fzdXSJ"), func(p string) error { return os.Symlink("/etc/passwd", p) })
		}},
		{name: "a log is a FIFO", cfg: hashed, warns: 1, odd: func(t *testing.T, dir string) {
			replaceWith(t, filepath.Join(dir, "defer/9/4jc7R74XMszdZL1"), func(p string) error { return syscall.Mkfifo(p, 0o600) })
		}},
		{name: "a log in the wrong hash directory", cfg: hashed, odd: func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "defer/0"), 0o700); err != nil {
				t.Fatal(err)
			}
			mustRename(t, filepath.Join(dir, "defer/9/4jc7Pl4JPWzdZKp"), filepath.Join(dir, "defer/0/4jc7Pl4JPWzdZKp"))
		}},
		{name: "a hash directory is a symbolic link", cfg: hashed, warns: 1, odd: func(t *testing.T, dir string) {
			mustRename(t, filepath.Join(dir, "defer/C"), filepath.Join(dir, "elsewhere"))
			if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "defer/C")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "no defer directory", cfg: hashed, odd: func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "defer")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "defer not hashed", cfg: postfix.Config{HashQueueNames: []string{"deferred"}, HashQueueDepth: 1}},
		{name: "hashed two deep", cfg: postfix.Config{HashQueueNames: []string{"deferred", "defer"}, HashQueueDepth: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := testspool.Copy(t, testspool.Dir(t, "spool"))
			c.cfg.QueueDirectory = dir
			moveLogsTo(t, dir, c.cfg)
			if c.odd != nil {
				c.odd(t, dir)
			}
			listed, listWarns := listLogs(t, c.cfg)
			taken, walkWarns := walkLogs(t, c.cfg, (*postfix.Spool).WalkParallelWithLogs)
			_, plainWarns := walkLogs(t, c.cfg, (*postfix.Spool).WalkParallel)
			if len(taken) < 15 {
				t.Fatalf("the walk listed %d messages; the test proves little", len(taken))
			}
			found := 0
			for id, got := range taken {
				want, ok := listed[id]
				if !ok {
					want = mqsql.NoLog
				}
				if got != want {
					t.Errorf("%s: the walk took log stamp %+v, the listing gives %+v", id, got, want)
				}
				if got != mqsql.NoLog {
					found++
				}
			}
			if c.name != "no defer directory" && found < 10 {
				t.Errorf("only %d messages have a log; the test proves little", found)
			}
			logWarns := slices.DeleteFunc(slices.Clone(walkWarns), func(w string) bool { return slices.Contains(plainWarns, w) })
			if !slices.Equal(skipped(logWarns), skipped(listWarns)) || len(logWarns) < c.warns {
				t.Errorf("the walk warns about logs:\n%q\nthe listing warns:\n%q\n(at least %d wanted)", logWarns, listWarns, c.warns)
			}
		})
	}
}

// skipped is what warnings say was skipped: "skip defer/C" of "skip defer/C: not a directory".
func skipped(warnings []string) []string {
	out := make([]string, len(warnings))
	for i, w := range warnings {
		out[i], _, _ = strings.Cut(w, ":")
	}
	return out
}

// listLogs lists the defer logs of the spool cfg names, with the warnings.
func listLogs(t *testing.T, cfg postfix.Config) (map[string]mqsql.LogStamp, []string) {
	t.Helper()
	sp, warns := openWarning(t, cfg)
	logs, err := sp.DelayLogStamps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return logs, warns()
}

// walkLogs walks the spool cfg names with walk and returns the log stamp of each message's
// entry (File.Log), with the warnings.
func walkLogs(t *testing.T, cfg postfix.Config, walk func(*postfix.Spool, context.Context, func(postfix.Entry) error) error) (map[string]mqsql.LogStamp, []string) {
	t.Helper()
	sp, warns := openWarning(t, cfg)
	var mu sync.Mutex
	logs := map[string]mqsql.LogStamp{}
	err := walk(sp, context.Background(), func(e postfix.Entry) error {
		mu.Lock()
		defer mu.Unlock()
		if !e.NoLog {
			logs[e.QueueID] = e.File.Log
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return logs, warns()
}

// openWarning opens the spool cfg names, collecting its warnings; warns returns them sorted.
func openWarning(t *testing.T, cfg postfix.Config) (sp *postfix.Spool, warns func() []string) {
	t.Helper()
	sp, err := postfix.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	var got []string
	sp.Warn = func(err error) { got = append(got, err.Error()) }
	return sp, func() []string { slices.Sort(got); return got }
}

// moveLogsTo moves each defer log of the testdata spool (hashed one deep) to where cfg puts it.
func moveLogsTo(t *testing.T, dir string, cfg postfix.Config) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "defer", "?", "*"))
	if err != nil || len(paths) < 10 {
		t.Fatalf("defer logs of the testdata spool: %d, %v", len(paths), err)
	}
	for _, p := range paths {
		to := filepath.Join(dir, cfg.RelPath("defer", filepath.Base(p)))
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			t.Fatal(err)
		}
		mustRename(t, p, to)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// replaceWith removes the file at path and makes something else there with make.
func replaceWith(t *testing.T, path string, make func(string) error) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := make(path); err != nil {
		t.Fatal(err)
	}
}
