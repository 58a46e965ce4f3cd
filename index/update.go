package index

import (
	"context"
	"time"

	"github.com/mqsql/mqsql"
)

// Scope is what one Update looks at, and whether it records what it finds changed. The zero
// value is a load: the whole spool, no events.
type Scope struct {
	// Events records each change in the events table, as the watcher does: the full pass and
	// a rescan. Without it an update is a load (the cold load, the warm start), which
	// records nothing, since an index that is behind says nothing about when mail moved.
	Events bool
	// ids, when not nil, narrows the update to these queue IDs, each with the places events
	// named for it: the watcher's refresh after a burst of events. It always records events.
	ids map[string]*dirtyID
}

// Whole is the scope of every message in the spool, with or without events.
func Whole(events bool) Scope { return Scope{Events: events} }

// Update is the one verb that makes the index equal to the spool, for scope. Every path that
// keeps an index current is an Update:
//
//   - the cold load and the warm start (Scope{}): one parallel walk compares each file's
//     stamp with its row (knownFiles, from the stamp cache when it is there), reads what is
//     new or changed in bulk and drops the rows of files proven gone (Sync);
//   - the watcher's full pass and a rescan (Scope{Events: true}): the same walk and
//     comparison, then the differing queue IDs refreshed one by one with their events rows
//     (Reconcile);
//   - the watcher's refresh after events (a Scope of queue IDs): each ID looked for where
//     events and the index say it is, read if it changed, stored with its events row.
//
// Each fails closed the same way: what could not be seen for a reason other than its
// absence keeps its rows, and comes back as *mqsql.UnreadableError (joined) after the rest is
// stored.
func (ix *Index) Update(ctx context.Context, sp mqsql.Spool, scope Scope) (Stats, error) {
	switch {
	case scope.ids != nil:
		start := time.Now()
		changes, err := ix.refresh(ctx, sp, scope.ids)
		st := Stats{Dirty: len(scope.ids), Changes: len(changes), Elapsed: time.Since(start)}
		st.Unreadable = len(mqsql.UnreadablePlaces(err))
		return st, err
	case scope.Events:
		return ix.reconcileAll(ctx, sp)
	}
	return ix.syncAll(ctx, sp)
}

// Sync is Update over the whole spool without events: a full load on an empty index, a warm
// start otherwise.
func (ix *Index) Sync(ctx context.Context, sp mqsql.Spool) (Stats, error) {
	return ix.Update(ctx, sp, Whole(false))
}

// Reconcile is Update over the whole spool recording events: what catches anything the
// watcher missed (an inotify overflow, a directory nobody watched, a file system without
// events).
func (ix *Index) Reconcile(ctx context.Context, sp mqsql.Spool) (Stats, error) {
	return ix.Update(ctx, sp, Whole(true))
}
