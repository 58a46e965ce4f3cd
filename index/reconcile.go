package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqsql/mqsql"
)

// reconcileAll is Update over the whole spool with events (Reconcile). It makes the index
// equal to the spool, like a load, and records what it finds changed
// in the events table, as the watcher does for the changes it sees. It walks the spool (lstat
// only), compares every file with its row, and refreshes just the queue IDs that differ, so
// on a current index it reads no queue file at all. It is what catches anything the watcher
// missed: an inotify overflow, a directory nobody watched, a file system without events.
//
// It fails closed as Sync does: the rows at or below a place it could not see stay as they
// were, with no events row; it returns those places' errors (*mqsql.UnreadableError, joined)
// after storing the rest.
func (ix *Index) reconcileAll(ctx context.Context, sp mqsql.Spool) (Stats, error) {
	start := time.Now()
	st := Stats{}
	dirty, files, unseen, err := ix.diffSpool(ctx, sp, start)
	st.Files = files
	if err != nil {
		return st, err
	}
	st.Dirty = len(dirty)
	changes, err := ix.refresh(ctx, sp, dirty)
	st.Changes = len(changes)
	st.Elapsed = time.Since(start)
	if err == nil || mqsql.OnlyUnreadable(err) {
		err = errors.Join(unseen, err)
		st.Unreadable = len(mqsql.UnreadablePlaces(err))
	}
	return st, err
}

// diffSpool walks the spool and returns the queue IDs whose files differ from their rows (new,
// changed, or with a changed defer log) and the IDs of rows whose file is gone, with the paths
// the walk saw as hints. It also returns how many files the walk saw. It walks and compares
// exactly as a warm Sync does (stampWalk, knownFiles): in parallel, taking each log's stamp in
// the walk where the driver can (mqsql.LogWalker), so that the watcher's pass every few
// minutes over a queue of a million messages costs a stamp per file, not a map of every path
// nor a listing of the logs first. The places the walk could not see come back in unseen
// (*mqsql.UnreadableError, joined): the rows at or below them are not taken for gone.
func (ix *Index) diffSpool(ctx context.Context, sp mqsql.Spool, now time.Time) (dirty map[string]*dirtyID, files int, unseen, err error) {
	defer debug.SetGCPercent(debug.SetGCPercent(warmGCPercent))
	walk, logsInEntries := stampWalk(sp)
	known, err := ix.known(ctx, sp, logsInEntries)
	if err != nil {
		return nil, 0, nil, err
	}
	dirty = map[string]*dirtyID{}
	var mu sync.Mutex // the walkers mark at once
	mark := func(id, hint string) {
		mu.Lock()
		defer mu.Unlock()
		d := dirty[id]
		if d == nil {
			d = &dirtyID{since: now, anywhere: true}
			dirty[id] = d
		}
		if hint != "" {
			d.hints = append(d.hints, hint)
		}
	}
	var seen atomic.Int64
	err = walk(ctx, func(e mqsql.Entry) error {
		seen.Add(1)
		if changed, _ := known.want(e); changed {
			mark(e.QueueID, e.File.Path)
		}
		return nil
	})
	files = int(seen.Load())
	if unseen, err = splitUnreadable(err); err != nil {
		return nil, files, nil, fmt.Errorf("walk spool: %w", err)
	}
	// Rows with an ambiguous key may be gone too: their IDs are looked at again.
	gone, err := ix.queueIDsOfRows(ctx, append(known.unseen(), known.ambiguous...), mqsql.UnreadablePlaces(unseen))
	if err != nil {
		return nil, files, nil, err
	}
	for _, id := range gone {
		mark(id, "")
	}
	return dirty, files, unseen, nil
}

// queueIDsOfRows returns the queue IDs of the queue_files rows with the given ids, leaving out
// those whose path is at or below one of the places a walk could not see (unreadable).
func (ix *Index) queueIDsOfRows(ctx context.Context, rowIDs []int64, unreadable []string) ([]string, error) {
	if len(rowIDs) == 0 {
		return nil, nil
	}
	st, err := ix.db.PrepareContext(ctx, `SELECT queue_id, path FROM queue_files WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer st.Close()
	ids := make([]string, 0, len(rowIDs))
	for _, row := range rowIDs {
		var id, path string
		switch err := st.QueryRowContext(ctx, row).Scan(&id, &path); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("read index: %w", err)
		case mqsql.Covers(unreadable, path):
		default:
			ids = append(ids, id)
		}
	}
	return ids, nil
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
