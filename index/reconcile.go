package index

import (
	"context"
	"fmt"
	"time"

	"github.com/mqsql/mqsql"
)

// ReconcileStats describes one Reconcile pass.
type ReconcileStats struct {
	Files   int // message files the walk saw
	Dirty   int // queue IDs whose files or rows differed, and were refreshed
	Changes int // events rows written
	Elapsed time.Duration
}

// Reconcile makes the index equal to the spool, like Sync, and records what it finds changed
// in the events table, as the watcher does for the changes it sees. It walks the spool (lstat
// only), compares every file with its row, and refreshes just the queue IDs that differ, so
// on a current index it reads no queue file at all. It is what catches anything the watcher
// missed: an inotify overflow, a directory nobody watched, a file system without events.
func (ix *Index) Reconcile(ctx context.Context, sp mqsql.Spool) (ReconcileStats, error) {
	start := time.Now()
	st := ReconcileStats{}
	dirty, files, err := ix.diffSpool(ctx, sp, start)
	st.Files = files
	if err != nil {
		return st, err
	}
	st.Dirty = len(dirty)
	changes, err := ix.refresh(ctx, sp, dirty)
	st.Changes = len(changes)
	st.Elapsed = time.Since(start)
	return st, err
}

// diffSpool walks the spool and returns the queue IDs whose files differ from their rows (new,
// changed, or with a changed defer log) and the IDs of rows whose file is gone, with the paths
// the walk saw as hints. It also returns how many files the walk saw.
func (ix *Index) diffSpool(ctx context.Context, sp mqsql.Spool, now time.Time) (map[string]*dirtyID, int, error) {
	rows, err := ix.allFiles(ctx)
	if err != nil {
		return nil, 0, err
	}
	logs, err := sp.DelayLogStamps(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list defer logs: %w", err)
	}
	dirty := map[string]*dirtyID{}
	mark := func(id, hint string) {
		d := dirty[id]
		if d == nil {
			d = &dirtyID{since: now, anywhere: true}
			dirty[id] = d
		}
		if hint != "" {
			d.hints = append(d.hints, hint)
		}
	}
	seen := make(map[string]bool, len(rows))
	files := 0
	err = sp.Walk(ctx, func(e mqsql.Entry) error {
		files++
		seen[e.File.Path] = true
		log := logStamp{-1, -1}
		if ls, ok := logs[e.QueueID]; ok {
			log = logStamp{ls.Size, ls.ModTimeNanos}
		}
		if r, ok := rows[e.File.Path]; !ok || !r.same(e, log) {
			mark(e.QueueID, e.File.Path)
		}
		return nil
	})
	if err != nil {
		return nil, files, fmt.Errorf("walk spool: %w", err)
	}
	for path, r := range rows {
		if !seen[path] {
			mark(r.queueID, "")
		}
	}
	return dirty, files, nil
}

// allFiles loads the stamp of every row, by path.
func (ix *Index) allFiles(ctx context.Context) (map[string]*indexedFile, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT id, queue_id, queue, path, inode, file_size, mode, mtime_ns,
		log_size, log_mtime_ns FROM queue_files`)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer rows.Close()
	out := map[string]*indexedFile{}
	for rows.Next() {
		r := &indexedFile{}
		if err := rows.Scan(&r.rowID, &r.queueID, &r.queue, &r.path, &r.inode, &r.fileSize, &r.mode,
			&r.mtimeNs, &r.logSize, &r.logMtime); err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		out[r.path] = r
	}
	return out, rows.Err()
}

// loaded reports whether the index has ever held anything: an index that never did is filled
// by Sync, in bulk and without an arrived event for every message already queued.
func (ix *Index) loaded(ctx context.Context) (bool, error) {
	var n int
	err := ix.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM queue_files LIMIT 1)) +
		(SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1))`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read index: %w", err)
	}
	return n > 0, nil
}
