package postfix

import (
	"context"
	"time"

	"github.com/mqsql/mqsql"
)

// The Postfix driver's QueueDir is a mqsql.Restorer: restored mail goes back through maildrop
// and pickup, as postsuper -r requeues mail.
var _ mqsql.Restorer = (*Spool)(nil)

// restoreRun is one mqsql restore into a Postfix spool.
type restoreRun struct {
	sp     *Spool
	intend func(mqsql.Intent)
	// pre holds the queue IDs of a live spool before the restore, so that the files pickup
	// makes of the copies are told from mail that was there.
	pre map[string]bool
}

// BeginRestore implements mqsql.Restorer. On a live spool it first lists the queue IDs there,
// so that Finish can tell the new files pickup makes from the others.
func (s *Spool) BeginRestore(ctx context.Context, intend func(mqsql.Intent)) (mqsql.RestoreRun, error) {
	run := &restoreRun{sp: s, intend: intend, pre: map[string]bool{}}
	if s.Live() {
		_ = s.Walk(ctx, func(e Entry) error { run.pre[e.QueueID] = true; return nil })
	}
	return run, nil
}

// Backend implements mqsql.RestoreRun: the copies go into maildrop.
func (r *restoreRun) Backend() string { return "maildrop" }

// Folder implements mqsql.RestoreRun with Restore.
func (r *restoreRun) Folder(dir string, j mqsql.RestoreJournal) ([]mqsql.Restored, error) {
	return r.sp.Restore(dir, r.intend, j)
}

// Finish implements mqsql.RestoreRun: on a live spool it wakes pickup, finds each new queue ID
// by the log_ident pickup keeps (AwaitPickup), and puts held mail back on hold (HoldAgain).
func (r *restoreRun) Finish(ctx context.Context, restored []mqsql.Restored, wait time.Duration) {
	live := r.sp.Live()
	newIDs := map[string]string{}
	held := map[string]error{}
	if live && len(restored) > 0 {
		newIDs = r.sp.AwaitPickup(ctx, restored, r.pre, wait)
		held = HoldAgain(ctx, restored, newIDs)
	}
	for i := range restored {
		res := &restored[i]
		res.NewQueueID = newIDs[res.Maildrop]
		if err, ok := held[res.NewQueueID]; ok && err == nil {
			res.Held = true
		} else if ok {
			res.Error = err.Error()
		}
		res.Where = DescribeNew(*res, newIDs, live)
	}
}
