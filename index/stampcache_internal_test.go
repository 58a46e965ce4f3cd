package index

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestStampCacheMatchesRows follows an index file through warm Syncs of a changing spool and
// checks after each that the stamp cache, when there is one, holds exactly the stamps of the
// rows; that a Sync reads it when it is there; and that it is never used once a row changed.
func TestStampCacheMatchesRows(t *testing.T) {
	ctx := context.Background()
	dir, sp, ix := fileIndexOfSpool(t)
	sync := func() {
		t.Helper()
		if _, err := ix.Sync(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}
	sync() // a full load writes no cache
	if k := knownOf(t, ix, sp); k.fromCache {
		t.Fatal("a full load wrote a stamp cache")
	}
	sync() // the first warm Sync reads the rows and writes the cache
	wantCacheOfRows(t, ix, sp)

	// A file removed, one chmod'ed (postsuper -e), a defer log with a new mtime.
	if err := os.Remove(filepath.Join(dir, "hold", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "deferred", "3", "4jc7PP1W6fzdXSJ"), 0o710); err != nil {
		t.Fatal(err)
	}
	later := time.Unix(1800000000, 0)
	if err := os.Chtimes(filepath.Join(dir, "defer", "1", "4jc7WC0jyrzdlqj"), later, later); err != nil {
		t.Fatal(err)
	}
	st, err := ix.Sync(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != 2 || st.Removed != 1 {
		t.Errorf("warm Sync after the changes: %+v, want 2 read and 1 removed", st)
	}
	wantCacheOfRows(t, ix, sp)

	// A row changed by anyone empties the cache, and the next Sync writes it again.
	if _, err := ix.db.ExecContext(ctx, `UPDATE queue_files SET mtime_ns = mtime_ns + 1 WHERE id = (SELECT min(id) FROM queue_files)`); err != nil {
		t.Fatal(err)
	}
	if k := knownOf(t, ix, sp); k.fromCache {
		t.Error("the stamp cache was used after a row changed")
	}
	if st, err := ix.Sync(ctx, sp); err != nil || st.Read != 1 {
		t.Errorf("Sync after a row changed: %+v, %v; want the file read again", st, err)
	}
	wantCacheOfRows(t, ix, sp)
}

// TestStampCacheRejected damages the cache in each way a reader can tell, and checks that a
// Sync then compares with the rows, and writes a good cache.
func TestStampCacheRejected(t *testing.T) {
	for name, damage := range map[string]string{
		"short chunk":   `UPDATE stamp_cache SET entries = substr(entries, 1, length(entries) - 1) WHERE chunk = 1`,
		"missing chunk": `DELETE FROM stamp_cache WHERE chunk = 1`,
		"wrong count":   `UPDATE stamp_cache SET entries = substr(entries, 1, 16) || zeroblob(8) WHERE chunk = 0`,
		"other hash":    `UPDATE stamp_cache SET entries = substr(entries, 1, 8) || zeroblob(8) || substr(entries, 17) WHERE chunk = 0`,
		"not a cache":   `UPDATE stamp_cache SET entries = CAST('MQSTAMP0' AS BLOB) || substr(entries, 9) WHERE chunk = 0`,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			_, sp, ix := fileIndexOfSpool(t)
			for range 2 {
				if _, err := ix.Sync(ctx, sp); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ix.db.ExecContext(ctx, damage); err != nil {
				t.Fatal(err)
			}
			if k := knownOf(t, ix, sp); k.fromCache || len(k.stamps) == 0 {
				t.Fatalf("damaged cache: fromCache %v, %d stamps; want the rows' stamps", k.fromCache, len(k.stamps))
			}
			if st, err := ix.Sync(ctx, sp); err != nil || st.Read != 0 {
				t.Errorf("Sync with a damaged cache: %+v, %v; want nothing read", st, err)
			}
			wantCacheOfRows(t, ix, sp)
		})
	}
}

// fileIndexOfSpool copies the test spool and opens an empty index file for it, closed when
// the test ends.
func fileIndexOfSpool(t *testing.T) (string, mqsql.Spool, *Index) {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	ix, err := Open(context.Background(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return dir, testspool.Open(t, dir), ix
}

// knownOf is what a Sync of ix would compare the spool with.
func knownOf(t *testing.T, ix *Index, sp mqsql.Spool) *knownFiles {
	t.Helper()
	k, err := ix.known(context.Background(), sp, false)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wantCacheOfRows checks that ix has a stamp cache, that a Sync would read it, and that it
// holds the stamps of the rows.
func wantCacheOfRows(t *testing.T, ix *Index, sp mqsql.Spool) {
	t.Helper()
	cached := knownOf(t, ix, sp)
	if !cached.fromCache {
		t.Fatal("no stamp cache after a warm Sync")
	}
	rows := &knownFiles{files: map[uint64]int32{}}
	if err := rows.loadFiles(context.Background(), ix); err != nil {
		t.Fatal(err)
	}
	if got, want := stampsByKey(cached), stampsByKey(rows); !maps.Equal(got, want) {
		t.Errorf("stamp cache\n%v\nrows\n%v", got, want)
	}
}

func stampsByKey(k *knownFiles) map[uint64]stamp {
	out := map[uint64]stamp{}
	for key, i := range k.files {
		out[key] = k.stamps[i]
	}
	return out
}
