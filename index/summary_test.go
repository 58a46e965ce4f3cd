package index_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/spoolgen"
)

// TestRunningTotalsFollowRows checks that the running totals the metrics read equal the same
// sums computed from the rows: after a full load (totals built once), a warm sync (rows removed
// and inserted through the triggers) and a full pass that moves rows between queues in place.
func TestRunningTotalsFollowRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	msgs := generateSorted(t, dir, spoolgen.Options{Messages: 1500, Seed: 11, Now: time.Unix(1795865417, 0)})
	ix := openIndex(t, filepath.Join(t.TempDir(), "idx.db"))
	sp := openGenerated(t, dir)
	if err := ix.KeepRunningTotals(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	checkTotals(t, ix, "after the full load")

	changeSpool(t, dir, msgs)
	if _, err := ix.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	checkTotals(t, ix, "after a warm sync")

	moved := 0
	for _, m := range msgs {
		if m.Queue != "hold" || moved == 40 {
			continue
		}
		if err := os.Rename(filepath.Join(dir, m.Path), filepath.Join(dir, "deferred", m.Path[len("hold/"):len("hold/")+1], m.QueueID)); err == nil {
			moved++ // postsuper -H: held mail released into deferred
		}
	}
	if moved == 0 {
		t.Fatal("no held mail to release: the test proves nothing")
	}
	if _, err := ix.Reconcile(ctx, sp); err != nil {
		t.Fatal(err)
	}
	checkTotals(t, ix, "after a full pass that released held mail")
}

// checkTotals compares each running total with its sum over the rows.
func checkTotals(t *testing.T, ix *index.Index, when string) {
	t.Helper()
	for _, q := range []struct{ totals, rows string }{
		{`SELECT queue, messages, recipients, bytes, arrival_sum FROM queue_totals WHERE messages != 0 ORDER BY 1`,
			`SELECT queue, count(*), sum(recipient_count), sum(size), sum(arrival_time) FROM queue_files GROUP BY queue ORDER BY 1`},
		{`SELECT queue, arrival_time, messages FROM queue_arrivals ORDER BY 1, 2`,
			`SELECT queue, arrival_time, count(*) FROM queue_files GROUP BY 1, 2 ORDER BY 1, 2`},
		{`SELECT queue, arrival_minute, messages FROM queue_arrival_minutes ORDER BY 1, 2`,
			`SELECT queue, CAST(floor(arrival_time / 60.0) AS INTEGER), count(*) FROM queue_files GROUP BY 1, 2 ORDER BY 1, 2`},
		{`SELECT recipients FROM deferred_total`,
			`SELECT count(*) FROM queue_recipients r JOIN queue_files f ON f.id = r.file_id
			 WHERE f.queue = 'deferred' AND r.status = 'pending'`},
		{`SELECT domain, recipients FROM deferred_domains WHERE recipients != 0 ORDER BY 1`,
			`SELECT r.domain, count(*) FROM queue_recipients r JOIN queue_files f ON f.id = r.file_id
			 WHERE f.queue = 'deferred' AND r.status = 'pending' GROUP BY 1 ORDER BY 1`},
	} {
		got, want := index.DumpRows(t, ix.DB(), q.totals), index.DumpRows(t, ix.DB(), q.rows)
		if len(want) == 0 {
			t.Fatalf("%s: %s has no rows: the test proves nothing", when, q.rows)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %s\n got %d rows %.300v\nwant %d rows %.300v", when, q.totals, len(got), got, len(want), want)
		}
	}
}

// TestRunningTotalsOnlyWhenKept checks that an index nobody asked for running totals (every
// run but mqsql watch --listen) does not pay for them: a full load builds none.
func TestRunningTotalsOnlyWhenKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	generateSorted(t, dir, spoolgen.Options{Messages: 50, Seed: 3, Now: time.Unix(1795865417, 0)})
	ix := openIndex(t, filepath.Join(t.TempDir(), "idx.db"))
	if _, err := ix.Sync(ctx, openGenerated(t, dir)); err != nil {
		t.Fatal(err)
	}
	var triggers, totals int
	if err := ix.DB().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'summary_%'`).Scan(&triggers); err != nil {
		t.Fatal(err)
	}
	if err := ix.DB().QueryRowContext(ctx, `SELECT count(*) FROM queue_totals`).Scan(&totals); err != nil {
		t.Fatal(err)
	}
	if triggers != 0 || totals != 0 {
		t.Errorf("after a full load nobody asked totals of: %d triggers, %d queue_totals rows; want none", triggers, totals)
	}
}
