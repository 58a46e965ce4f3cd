package index

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often a watcher of an index file copies the write-ahead log back into
// the database.
const checkpointEvery = time.Second

// noAutoCheckpoint stops SQLite from checkpointing inside the commit of a refresh. A
// checkpoint fsyncs the database; while Postfix fsyncs every queue file it writes, that can
// take half a second, and a query would wait that long to see the change. The watcher's
// checkpointer does it on its own connection instead, where the wait delays nobody.
func (ix *Index) noAutoCheckpoint(ctx context.Context, tx *sql.Tx) error {
	if ix.path == "" {
		return nil // in memory: no write-ahead log
	}
	_, err := tx.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0")
	return err
}

// checkpoints runs a passive checkpoint every checkpointEvery until the watcher stops. A
// passive checkpoint neither waits for nor blocks readers and the writer; what it cannot copy
// yet, the next one does.
func (w *Watcher) checkpoints() {
	defer w.wg.Done()
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-tick.C:
			if _, err := w.ix.db.ExecContext(w.ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && w.ctx.Err() == nil {
				w.noteError(err)
			}
		}
	}
}
