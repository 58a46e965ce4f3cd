package index_test

import (
	"context"
	"os"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/internal/testspool"
)

func syncedIndex(t *testing.T, dir, dbPath string) *index.Index {
	t.Helper()
	ctx := context.Background()
	sp := testspool.Open(t, dir)
	ix, err := index.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if _, err := ix.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestTestdataOracle compares the index of testdata/spool with what real postqueue -j printed
// for the same files (testdata/spool.postqueue.jsonl, see testdata/README.md).
func TestTestdataOracle(t *testing.T) {
	raw, err := os.ReadFile(testspool.Dir(t, "spool.postqueue.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := postfixtest.ParsePostqueueJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	ix := syncedIndex(t, testspool.Copy(t, testspool.Dir(t, "spool")), "")
	compareWithPostqueue(t, ix.DB(), entries)

	var corrupt, withError int
	err = ix.DB().QueryRow(`SELECT count(*) FILTER (WHERE queue = 'corrupt'), count(error) FROM messages`).Scan(&corrupt, &withError)
	if err != nil {
		t.Fatal(err)
	}
	if corrupt != 1 || withError != 1 {
		t.Errorf("corrupt rows %d, rows with error %d; want the one junk file in corrupt/, with an error", corrupt, withError)
	}
}
