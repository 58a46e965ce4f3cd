// Package failclosed checks, for any MTA driver, the promise the driver and the index keep
// together when the spool cannot be read: a place that cannot be opened, listed or stat'ed for
// a reason other than its absence is reported (*mqsql.UnreadableError), never taken for empty,
// and the index keeps every row it held there. Each driver's tests run it on its sample spool,
// with the process really out of file descriptors (internal/fdlimit).
package failclosed

import (
	"context"
	"errors"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/fdlimit"
	"github.com/mqsql/mqsql/internal/testindex"
)

// spares are the descriptors left free in each round: none (nothing can be opened), then a
// few, so that a walk opens some directories and files and not others.
var spares = []int{0, 1, 2, 4, 8}

// Check indexes sp, then runs a warm Sync, a Reconcile, every walk and a Stat with the process
// out of file descriptors: each must report what it could not see and leave every row and no
// left event; with descriptors back, a Sync must see everything again.
func Check(t *testing.T, sp mqsql.Spool) {
	t.Helper()
	ctx := context.Background()
	ix := testindex.Memory(t, sp)
	want := rows(t, ix)
	if len(want) == 0 {
		t.Fatal("the sample spool has no messages: the check proves nothing")
	}
	first := want[0]
	for _, spare := range spares {
		restore := fdlimit.Exhaust(t, spare)
		errs := map[string]error{}
		_, errs["Sync"] = ix.Sync(ctx, sp)
		_, errs["Reconcile"] = ix.Reconcile(ctx, sp)
		errs["Walk"] = sp.Walk(ctx, ignore)
		errs["WalkParallel"] = sp.WalkParallel(ctx, ignore)
		errs["WalkForRead"] = sp.WalkForRead(ctx, ignore)
		if lw, ok := sp.(mqsql.LogWalker); ok {
			errs["WalkParallelWithLogs"] = lw.WalkParallelWithLogs(ctx, ignore)
		}
		_, found, statErr := sp.Stat(first.queue, first.id, first.path)
		restore()
		for name, err := range errs {
			checkErr(t, spare, name, err)
		}
		if spare == 0 && (found || !isUnreadable(statErr)) {
			t.Errorf("no descriptors: Stat of %s found %v, error %v; want an *mqsql.UnreadableError", first.path, found, statErr)
		}
		if got := rows(t, ix); !equal(got, want) {
			t.Errorf("%d spare descriptors: %d rows after the passes, want the %d before, unchanged", spare, len(got), len(want))
		}
		if n := leftEvents(t, ix); n != 0 {
			t.Errorf("%d spare descriptors: %d left events for mail that never left", spare, n)
		}
	}
	if _, err := ix.Sync(ctx, sp); err != nil {
		t.Fatalf("Sync with descriptors back: %v", err)
	}
	if got := rows(t, ix); !equal(got, want) {
		t.Errorf("%d rows after a Sync with descriptors back, want %d", len(got), len(want))
	}
}

func ignore(mqsql.Entry) error { return nil }

// checkErr fails unless err is nil or only places that could not be read; with no spare
// descriptor it must be such places.
func checkErr(t *testing.T, spare int, name string, err error) {
	t.Helper()
	switch {
	case err == nil && spare == 0:
		t.Errorf("no descriptors: %s saw the whole spool, want *mqsql.UnreadableError", name)
	case err != nil && !mqsql.OnlyUnreadable(err):
		t.Errorf("%d spare descriptors: %s failed with %v, want only *mqsql.UnreadableError", spare, name, err)
	}
}

func isUnreadable(err error) bool {
	var ue *mqsql.UnreadableError
	return errors.As(err, &ue)
}

// row is what Check compares of a message.
type row struct {
	queue    mqsql.Queue
	id, path string
	size     int64
}

func rows(t *testing.T, ix *index.Index) []row {
	t.Helper()
	rs, err := ix.DB().Query(`SELECT queue, queue_id, path, size FROM messages ORDER BY path`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.queue, &r.id, &r.path, &r.size); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func equal(a, b []row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func leftEvents(t *testing.T, ix *index.Index) int {
	t.Helper()
	var n int
	if err := ix.DB().QueryRow(`SELECT count(*) FROM events WHERE event = ?`, index.EventLeft).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
