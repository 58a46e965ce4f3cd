package index

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
)

// Status describes the spool, the rows per queue, the watcher and the time of the last change,
// for the REPL's .status (shell.Live).
func (w *Watcher) Status(ctx context.Context) (string, error) {
	st := w.State()
	lines := [][2]string{{"watcher", watcherLine(st)}}
	lines = append(lines, [2]string{"reconcile", rescanLine(st)})
	lines = append(lines, [2]string{"last change", sinceLine(st.LastChange, w.ix.Now())})
	if st.LastError != "" {
		lines = append(lines, [2]string{"last error", fmt.Sprintf("%s (%s)", st.LastError, clock(st.LastErrorAt))})
	}
	if st.Unreadable > 0 || st.Stale != "" {
		lines = append(lines, [2]string{"unreadable", unreadableLine(st)})
	}
	return statusReport(ctx, w.ix, w.sp.Dir(), lines)
}

// unreadableLine says how many places of the spool passes could not see, and whether the index
// is current now.
func unreadableLine(st WatchState) string {
	s := fmt.Sprintf("%d places of the spool could not be read since the start (their messages were kept)", st.Unreadable)
	if st.Stale == "" {
		return s + "; the last full pass read everything"
	}
	return s + fmt.Sprintf("; NOT CURRENT since %s: %s", clock(st.StaleSince), st.Stale)
}

func watcherLine(st WatchState) string {
	if st.Mode == "poll" {
		s := fmt.Sprintf("polling every %v", st.Poll)
		if st.Fallback != "" {
			s += " (cannot watch: " + st.Fallback + ")"
		}
		return s
	}
	return fmt.Sprintf("inotify on %d directories, changes applied after %v quiet (at most %v)",
		st.Dirs, st.Debounce, st.MaxDelay)
}

func rescanLine(st WatchState) string {
	s := fmt.Sprintf("full pass every %v; %d passes, %d inotify overflows", st.Reconcile, st.Rescans, st.Overflows)
	if !st.LastRescan.IsZero() {
		s += fmt.Sprintf("; last %s (%s, %v)", clock(st.LastRescan), st.LastRescanReason, st.LastRescanTook.Round(time.Millisecond))
	}
	return s
}

func sinceLine(t, now time.Time) string {
	if t.IsZero() {
		return "none seen yet"
	}
	return fmt.Sprintf("%s (%v ago)", clock(t), now.Sub(t).Round(100*time.Millisecond))
}

func clock(t time.Time) string { return t.Format("2006-01-02 15:04:05") }

// statusReport is the part of .status that comes from the index itself: where things are, rows
// per queue, and the events table. extra lines describe whoever keeps the index current.
func statusReport(ctx context.Context, ix *Index, spoolDir string, extra [][2]string) (string, error) {
	counts, total, err := queueCounts(ctx, ix.db)
	if err != nil {
		return "", err
	}
	var events int64
	if err := ix.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&events); err != nil {
		return "", fmt.Errorf("count events: %w", err)
	}
	where := "in memory"
	switch {
	case ix.scratch != "":
		where = "a temporary file for this run (" + ix.path + ")"
	case ix.path != "":
		where = ix.path
	}
	lines := [][2]string{
		{"spool", spoolDir},
		{"index", where},
		{"messages", fmt.Sprintf("%d (%s)", total, counts)},
		{"events", fmt.Sprintf("%d rows", events)},
	}
	lines = append(lines, extra...)
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-12s %s\n", l[0]+":", l[1])
	}
	return b.String(), nil
}

// queueCounts returns "maildrop 0, incoming 3, ..." for the driver's queues in its listing's
// order (the queues table), then any other queue a row is in, and the total.
func queueCounts(ctx context.Context, db *sql.DB) (string, int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT queue, sum(n) FROM (
			SELECT queue, 0 AS n, position FROM queues
			UNION ALL SELECT queue, count(*), NULL FROM queue_files GROUP BY queue)
		GROUP BY queue ORDER BY coalesce(min(position), 1000000), queue`)
	if err != nil {
		return "", 0, fmt.Errorf("count messages: %w", err)
	}
	defer rows.Close()
	var parts []string
	var total int64
	for rows.Next() {
		var q string
		var c int64
		if err := rows.Scan(&q, &c); err != nil {
			return "", 0, fmt.Errorf("count messages: %w", err)
		}
		parts = append(parts, fmt.Sprintf("%s %d", q, c))
		total += c
	}
	if err := rows.Err(); err != nil {
		return "", 0, fmt.Errorf("count messages: %w", err)
	}
	return strings.Join(parts, ", "), total, nil
}

// Follower is the live view of an index file that another process's watcher (mqsql watch)
// keeps current: queries read it as it is, .status says who keeps it, and .rescan runs one
// Reconcile in this process. It implements shell.Live.
type Follower struct {
	ix *Index
	sp mqsql.Spool
}

// NewFollower returns the live view of ix, whose file another process keeps current.
func NewFollower(ix *Index, sp mqsql.Spool) *Follower { return &Follower{ix: ix, sp: sp} }

// Rescan reconciles the index with the spool in this process; the owner's watcher goes on.
func (f *Follower) Rescan(ctx context.Context) error {
	_, err := f.ix.Update(ctx, f.sp, Whole(true))
	return err
}

// Status describes the index and the watcher that owns it.
func (f *Follower) Status(ctx context.Context) (string, error) {
	info, ok, err := IndexOwner(f.ix.path)
	if err != nil {
		return "", err
	}
	who := "none: the watcher that kept this index has stopped; .rescan brings it up to date"
	if ok {
		who = info.Describe()
	}
	return f.ix.Describe(ctx, f.sp.Dir(), who)
}

// Describe is .status for an index that no watcher of this process keeps: keeper says who
// keeps it current, or how it was read; the last change is the newest events row, the last
// thing a watcher saw.
func (ix *Index) Describe(ctx context.Context, spoolDir, keeper string) (string, error) {
	var last sql.NullFloat64
	if err := ix.db.QueryRowContext(ctx, `SELECT max(time) FROM events`).Scan(&last); err != nil {
		return "", fmt.Errorf("read events: %w", err)
	}
	change := time.Time{}
	if last.Valid {
		change = time.UnixMicro(int64(last.Float64 * 1e6))
	}
	return statusReport(ctx, ix, spoolDir, [][2]string{{"watcher", keeper}, {"last change", sinceLine(change, ix.Now())}})
}
