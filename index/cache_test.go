package index_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestCacheIndex checks the index the default invocation keeps between runs: a later run
// reads only what changed and answers as a fresh index would, one process at a time uses
// it, and a cache that may have lost writes (written in another boot, or damaged) is rebuilt.
func TestCacheIndex(t *testing.T) {
	ctx := context.Background()
	spool := testspool.Copy(t, testspool.Dir(t, "spool"))
	sp := testspool.Open(t, spool)
	dir := filepath.Join(t.TempDir(), "cache")
	const name = "postfix-test.db"
	path := filepath.Join(dir, name)

	// run opens the cache, syncs it, and returns how many files it read and its count.
	run := func(t *testing.T) (read, count int) {
		t.Helper()
		ix, err := index.OpenCache(ctx, dir, name)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		st, err := ix.Sync(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.DB().QueryRowContext(ctx, "SELECT count(*) FROM messages").Scan(&count); err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := ix.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal mode after a load: %q, %v; want wal", mode, err)
		}
		return st.Read, count
	}

	read, count := run(t)
	if read != 18 || count != 18 {
		t.Fatalf("first run read %d files, counted %d; want 18 and 18", read, count)
	}
	for _, c := range []struct {
		file string
		perm os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		if st, err := os.Stat(c.file); err != nil || st.Mode().Perm() != c.perm {
			t.Errorf("%s: %v, want mode %v", c.file, err, c.perm)
		}
	}
	if read, count = run(t); read != 0 || count != 18 {
		t.Errorf("second run read %d files, counted %d; want 0 and 18", read, count)
	}

	t.Run("a changed queue is read again where it changed", func(t *testing.T) {
		victim := firstQueueFile(t, spool)
		if err := os.Remove(victim); err != nil {
			t.Fatal(err)
		}
		if read, count := run(t); read != 0 || count != 17 {
			t.Errorf("after removing %s: read %d, counted %d; want 0 and 17", victim, read, count)
		}
	})

	t.Run("events of an earlier run are not this run's", func(t *testing.T) {
		ix, err := index.OpenCache(ctx, dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ix.DB().ExecContext(ctx, `INSERT INTO events (time, queue_id, event) VALUES (1, 'X', 'arrived')`); err != nil {
			t.Fatal(err)
		}
		ix.Close()
		if ix, err = index.OpenCache(ctx, dir, name); err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		var n int
		if err := ix.DB().QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil || n != 0 {
			t.Errorf("events rows from the last run: %d, %v; want none", n, err)
		}
	})

	t.Run("one process at a time", func(t *testing.T) {
		ix, err := index.OpenCache(ctx, dir, name)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		if other, err := index.OpenCache(ctx, dir, name); !errors.Is(err, index.ErrCacheBusy) {
			if other != nil {
				other.Close()
			}
			t.Fatalf("a second OpenCache while the first is open: %v, want ErrCacheBusy", err)
		}
	})

	t.Run("written in another boot", func(t *testing.T) {
		if err := os.WriteFile(path+".lock", []byte("00000000-0000-0000-0000-000000000000\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if read, count := run(t); read != 17 || count != 17 {
			t.Errorf("read %d, counted %d; want a full load of 17", read, count)
		}
	})

	t.Run("damaged", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("this is no SQLite database, it was cut short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if read, count := run(t); read != 17 || count != 17 {
			t.Errorf("read %d, counted %d; want a full load of 17", read, count)
		}
	})
}

// firstQueueFile returns the path of one message file of the spool in dir.
func firstQueueFile(t *testing.T, dir string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "deferred", "*", "*"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no deferred message in %s: %v", dir, err)
	}
	return matches[0]
}
