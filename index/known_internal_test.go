package index

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestWarmSyncHashCollisions makes the hashes of knownFiles collide, all of them or some,
// and checks that a warm sync still ends with the rows a cold sync gives: a collision may
// cost a re-read, never a wrong row.
func TestWarmSyncHashCollisions(t *testing.T) {
	for name, hash := range map[string]func(string) uint64{
		"all collide":  func(string) uint64 { return 1 },
		"some collide": func(s string) uint64 { return uint64(len(s) % 3) },
	} {
		t.Run(name, func(t *testing.T) {
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
			defer warm.Close()
			if _, err := warm.Sync(ctx, sp); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, "hold", "4jc86b0jCBz5bb9")); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, "deferred", "3", "4jc7PP1W6fzdXSJ"), 0o710); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second sync finds nothing changed
				if _, err := warm.Sync(ctx, sp); err != nil {
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
		})
	}
}
