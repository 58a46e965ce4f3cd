// Package testindex builds the in-memory index that tests of the packages above index query:
// one place to open it, read a spool into it and close it when the test ends.
package testindex

import (
	"context"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
)

// Memory reads sp into a new in-memory index that can also read message content from sp
// (header(), body(), .cat), and closes the index when the test ends. opts configure the index
// (index.WithClock for a test whose output tells ages).
func Memory(t testing.TB, sp mqsql.Spool, opts ...index.Option) *index.Index {
	t.Helper()
	ctx := context.Background()
	ix, err := index.Open(ctx, "", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if _, err := ix.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	ix.UseSpool(sp)
	return ix
}
