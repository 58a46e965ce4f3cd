package index

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestWarmSyncHashCollisions makes the hashes of knownFiles collide, all of them, some or
// none, and checks that a warm Sync, and the watcher's full pass (Reconcile), which compare
// through knownFiles, still end with the rows a cold sync gives: a collision may cost a
// re-read, never a wrong row.
func TestWarmSyncHashCollisions(t *testing.T) {
	hashes := map[string]func(string) uint64{
		"all collide":  func(string) uint64 { return 1 },
		"some collide": func(s string) uint64 { return uint64(len(s) % 3) },
		"none collide": keyOf,
	}
	passes := map[string]struct {
		run  func(context.Context, *Index, mqsql.Spool) error
		left string // the left events of the removed message the pass records
	}{
		"Sync": {func(ctx context.Context, ix *Index, sp mqsql.Spool) error { _, err := ix.Sync(ctx, sp); return err }, "0"},
		"Reconcile": {func(ctx context.Context, ix *Index, sp mqsql.Spool) error {
			_, err := ix.Reconcile(ctx, sp)
			return err
		}, "1"},
	}
	for name, hash := range hashes {
		for passName, pass := range passes {
			t.Run(name+"/"+passName, func(t *testing.T) {
				warm := testWarmPass(t, hash, pass.run)
				left := DumpRows(t, warm.db, "SELECT count(*) FROM events WHERE event = 'left' AND queue_id = '4jc86b0jCBz5bb9'")
				if len(left) != 1 || left[0] != pass.left {
					t.Errorf("left events of the removed message: %q, want %s", left, pass.left)
				}
			})
		}
	}
}

// testWarmPass is one case of TestWarmSyncHashCollisions: keyOf replaced by hash, and pass
// the warm pass; it returns the index the passes kept.
func testWarmPass(t *testing.T, hash func(string) uint64, pass func(context.Context, *Index, mqsql.Spool) error) *Index {
	saved := keyOf
	keyOf = hash
	defer func() { keyOf = saved }()
	ctx := context.Background()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	sp := testspool.Open(t, dir)
	warm, err := Open(ctx, filepath.Join(t.TempDir(), "warm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { warm.Close() })
	if _, err := warm.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "hold", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "deferred", "3", "4jc7PP1W6fzdXSJ"), 0o710); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second pass finds nothing changed
		if err := pass(ctx, warm, sp); err != nil {
			t.Fatal(err)
		}
	}
	cold, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cold.Close()
	if _, err := cold.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT m.*, r.* FROM messages m LEFT JOIN recipients r USING (queue_id) ORDER BY m.path, r.address, r.status"
	if w, c := DumpRows(t, warm.db, q), DumpRows(t, cold.db, q); !slices.Equal(w, c) {
		t.Errorf("warm rows\n%q\ncold rows\n%q", w, c)
	}
	return warm
}
