package index_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestScratchIndex checks the default run's index: a private file under TMPDIR that answers
// like any index and is gone once closed.
func TestScratchIndex(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ix, err := index.OpenScratch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Temporary() || filepath.Dir(filepath.Dir(ix.Path())) != tmp {
		t.Fatalf("index %q (temporary %v), want a file in a directory of %s", ix.Path(), ix.Temporary(), tmp)
	}
	st, err := os.Stat(filepath.Dir(ix.Path()))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("its directory: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	if _, err := ix.Sync(ctx, testspool.Open(t, testspool.Dir(t, "spool"))); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := ix.DB().QueryRowContext(ctx, "SELECT count(*) FROM messages").Scan(&n); err != nil || n != 18 {
		t.Fatalf("count: %d, %v; want 18", n, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("after Close, TMPDIR holds %v", left)
	}
}
