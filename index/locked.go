package index

import (
	"fmt"
	"time"

	"github.com/mqsql/mqsql"
)

// relookEvery is how often a watcher looks again at the messages it has in active, on a spool
// whose active queue is a lock (mqsql.LockedActive): the end of a lock changes no file, so no
// event says that a delivery, or an admin's command that held the lock while it changed the
// message, has finished.
const relookEvery = 250 * time.Millisecond

// locksActive reports whether the watched spool's active queue is a lock.
func (w *Watcher) locksActive() bool {
	la, ok := w.sp.(mqsql.LockedActive)
	return ok && la.ActiveIsALock()
}

// anyActive reports whether the index has a message in active.
func (w *Watcher) anyActive() bool {
	var any bool
	err := w.ix.db.QueryRowContext(w.ctx, `SELECT EXISTS (SELECT 1 FROM queue_files WHERE queue = ?)`, string(mqsql.Active)).Scan(&any)
	if err != nil && w.ctx.Err() == nil {
		w.noteError(fmt.Errorf("look for active messages: %w", err))
	}
	return any
}

// markActiveDirty marks every message the index has in active dirty, so that the next
// refresh looks at it again (a message whose lock is still held costs a few system calls).
func (w *Watcher) markActiveDirty() {
	rows, err := w.ix.db.QueryContext(w.ctx, `SELECT DISTINCT queue_id FROM queue_files WHERE queue = ?`, string(mqsql.Active))
	if err != nil {
		if w.ctx.Err() == nil {
			w.noteError(fmt.Errorf("look for active messages: %w", err))
		}
		return
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			w.noteError(fmt.Errorf("look for active messages: %w", err))
			return
		}
		ids = append(ids, id)
	}
	now := time.Now()
	w.mu.Lock()
	for _, id := range ids {
		markDirty(w.pending, id, "", now)
	}
	w.mu.Unlock()
}
