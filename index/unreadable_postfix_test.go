package index_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/fdlimit"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/spool/postfix"
)

// TestWatchFullPassOutOfDescriptorsUnderPostfix runs the watcher's full pass over a real
// Postfix queue while the process has no file descriptors left (RLIMIT_NOFILE lowered to what
// is open, then to a few more, so that the pass opens some directories and not others), as
// idle connections to --listen once made it: the pass cannot open the queue directories. Every
// row must stay, no left event be recorded, the pass must say what it could not read, count
// it and mark the index not current; once descriptors are back, the next pass makes the
// index current and equal to postqueue -j again.
func TestWatchFullPassOutOfDescriptorsUnderPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	sendDeferred(ctx, t, pf)
	cfg, err := postfix.LoadConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := postfix.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	ix, err := index.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	w, err := ix.Watch(ctx, sp, index.WatchOptions{Reconcile: time.Hour, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	before := indexRows(t, ix.DB())
	if len(before) < 20 {
		t.Fatalf("%d messages indexed: the test proves too little", len(before))
	}

	for _, spare := range []int{0, 1, 3, 8} {
		restore := fdlimit.Exhaust(t, spare)
		err := w.Rescan(ctx)
		restore()
		var ue *mqsql.UnreadableError
		if spare == 0 && !errors.As(err, &ue) {
			t.Errorf("%d spare descriptors: the full pass returned %v, want an *mqsql.UnreadableError", spare, err)
		}
		if err != nil && !mqsql.OnlyUnreadable(err) {
			t.Errorf("%d spare descriptors: the full pass failed: %v", spare, err)
		}
		if got := indexRows(t, ix.DB()); !slices.Equal(got, before) {
			t.Errorf("%d spare descriptors: %d messages indexed after the pass, want the %d before, unchanged", spare, len(got), len(before))
		}
		if n := eventsOfKind(t, ix, index.EventLeft); n != 0 {
			t.Errorf("%d spare descriptors: %d left events recorded for mail that never left", spare, n)
		}
		if err == nil {
			continue
		}
		if st := w.State(); st.Unreadable == 0 || st.Stale == "" {
			t.Errorf("%d spare descriptors: watcher state %+v: want the unreadable places counted and the index marked not current", spare, st)
		}
		status, err := w.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(status, "NOT CURRENT") {
			t.Errorf(".status does not say the index is not current:\n%s", status)
		}
	}

	if err := w.Rescan(ctx); err != nil {
		t.Fatalf("full pass with descriptors back: %v", err)
	}
	if st := w.State(); st.Stale != "" {
		t.Errorf("after a full pass that read everything the index is still marked not current: %q", st.Stale)
	}
	entries, err := pf.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := postqueueDiff(t, ix.DB(), entries); len(diffs) > 0 {
		t.Errorf("index differs from postqueue -j: %v", diffs)
	}
}

// eventsOfKind counts the events rows of the given kind.
func eventsOfKind(t *testing.T, ix *index.Index, kind string) int {
	t.Helper()
	var n int
	if err := ix.DB().QueryRow(`SELECT count(*) FROM events WHERE event = ?`, kind).Scan(&n); err != nil {
		t.Fatal(fmt.Errorf("count %s events: %w", kind, err))
	}
	return n
}
