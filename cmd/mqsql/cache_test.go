package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestMain keeps the cache indexes of the default runs the tests make out of the machine's
// cache directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mqsql-test-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	// The machine's mail log is shared by every test and grows to hundreds of thousands of
	// lines: only the history tests (which pass --history-days) read it.
	os.Setenv(historyDaysEnv, "0")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cacheTestDirs gives a test of the cache index a cache directory ($XDG_CACHE_HOME) and a
// $TMPDIR of its own, to look into, and a copy of the sample queue.
func cacheTestDirs(t *testing.T) (cache, tmp, queue string) {
	t.Helper()
	cache, tmp = t.TempDir(), t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("TMPDIR", tmp)
	return cache, tmp, testspool.Copy(t, testspool.Dir(t, "spool"))
}

// TestDefaultRunKeepsACache checks the default run's cache index: kept per queue in
// $XDG_CACHE_HOME/mqsql, private, current after the queue changed, and, while another run
// holds it, replaced for that run by a temporary index without a word on stderr.
func TestDefaultRunKeepsACache(t *testing.T) {
	cache, tmp, queue := cacheTestDirs(t)
	count := func(t *testing.T, want string) {
		t.Helper()
		r := runMQSQL(t, "", "--spool", queue, "--header=false", "SELECT count(*) FROM messages")
		if r.code != exitOK || strings.TrimSpace(r.stdout) != want || r.stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want %s and nothing on stderr", r.code, r.stdout, r.stderr, want)
		}
	}
	count(t, "18")
	db := filepath.Join(cache, "mqsql", cacheName("postfix", queue))
	if st, err := os.Stat(db); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache index %s: %v; want a 0600 file", db, err)
	}
	matches, _ := filepath.Glob(filepath.Join(queue, "deferred", "*", "*"))
	if len(matches) == 0 {
		t.Fatal("no deferred message in the sample queue")
	}
	if err := os.Remove(matches[0]); err != nil {
		t.Fatal(err)
	}
	count(t, "17")

	held, err := index.OpenCache(t.Context(), filepath.Join(cache, "mqsql"), cacheName("postfix", queue))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	count(t, "17")
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the run beside a held cache left %v in TMPDIR", left)
	}
}
