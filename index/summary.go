package index

import (
	"context"
	"database/sql"
	"fmt"
)

// The running totals of schema.sql's @summaries part (queue_totals, queue_arrivals,
// queue_arrival_minutes, deferred_domains, deferred_total) let a metrics scrape read a few
// thousand rows however big the queue is: per queue the minutes of the last 1280 and the
// seconds of one minute per age bucket bound, and the top domains of deferred mail.
// Triggers keep them as rows change; a full load drops the triggers, loads, and then rebuilds
// the totals from the rows once, which costs one GROUP BY instead of a trigger per row.

// summaryTrigger is one of the @summaries triggers: when it exists, they all do, with totals
// that match the rows.
const summaryTrigger = "summary_file_in"

// execer runs statements: a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// KeepRunningTotals makes the index keep the running totals from now on, building them from
// the rows when it does not yet: what a metrics endpoint reads. Only an index that serves
// metrics pays for them; the index file remembers, so later loads of it (a full one too)
// keep them.
func (ix *Index) KeepRunningTotals(ctx context.Context) error {
	return ensureSummaries(ctx, ix.db)
}

// summariesKept reports whether the running totals' triggers exist.
func summariesKept(ctx context.Context, ex execer) (bool, error) {
	var n int
	if err := ex.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = ?`, summaryTrigger).Scan(&n); err != nil {
		return false, fmt.Errorf("look for the running totals: %w", err)
	}
	return n > 0, nil
}

// ensureSummaries rebuilds the running totals and creates their triggers when the triggers
// are missing (a new index, or after a full load).
func ensureSummaries(ctx context.Context, ex execer) error {
	kept, err := summariesKept(ctx, ex)
	if err != nil || kept {
		return err
	}
	if _, err := ex.ExecContext(ctx, summariesPart()); err != nil {
		return fmt.Errorf("build the running totals: %w", err)
	}
	return nil
}

// dropSummaryTriggers removes the triggers before a full load, which ensureSummaries follows.
func dropSummaryTriggers(ctx context.Context, tx *sql.Tx) error {
	for _, name := range summaryTriggers {
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+name); err != nil {
			return fmt.Errorf("drop the running totals' triggers: %w", err)
		}
	}
	return nil
}

// summaryTriggers are the names of every @summaries trigger.
var summaryTriggers = []string{
	"summary_file_in", "summary_file_out", "summary_file_change", "summary_file_move",
	"summary_recipient_in", "summary_recipient_out", "summary_recipient_change",
}
