package index

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/mqsql/mqsql"
)

// store writes the files found for each ID in one transaction. It reads the rows again inside
// the transaction, so that a concurrent writer (another mqsql syncing the same file) cannot
// make it drop or duplicate rows.
func (ix *Index) store(ctx context.Context, sp mqsql.Spool, ids []string, batch map[string]*dirtyID, disk map[string][]*onDisk, logs map[string]mqsql.LogStamp) ([]change, error) {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin index refresh: %w", err)
	}
	defer tx.Rollback()
	if err := ix.noAutoCheckpoint(ctx, tx); err != nil {
		return nil, fmt.Errorf("begin index refresh: %w", err)
	}
	now, err := indexedFiles(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	w, err := newWriter(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer w.close()
	s := &storer{w: w, tx: tx, sp: sp}
	defer s.close()
	var changes []change
	for _, id := range ids {
		after, touched, err := s.storeOne(ctx, now[id], disk[id], logs[id])
		if err != nil {
			return nil, err
		}
		if c, ok := classify(sp, id, batch[id], primary(now[id], sp.Meaning()), after, touched); ok {
			changes = append(changes, c)
		}
	}
	if err := insertEvents(ctx, tx, changes); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit index refresh: %w", err)
	}
	ix.events.add(changes)
	return changes, nil
}

// storer writes one refresh transaction.
type storer struct {
	w        *writer
	tx       *sql.Tx
	sp       mqsql.Spool
	relocate *sql.Stmt // prepared on first use
}

func (s *storer) close() {
	if s.relocate != nil {
		s.relocate.Close()
	}
}

// storeOne makes the rows of one queue ID equal to the files found for it and returns its
// state afterwards, and whether any row was rewritten. A row is kept when its file did not
// change, moved in place when only the file's queue or mode changed (a rename keeps the
// inode, size and mtime, so the content is the same), and rewritten from the file otherwise.
func (s *storer) storeOne(ctx context.Context, rows []indexedFile, files []*onDisk, log mqsql.LogStamp) (state, bool, error) {
	touched := false
	used := map[int64]bool{} // rows that now describe a file, or were dropped
	var after []state
	for _, f := range files {
		old := byPath(rows, f.entry.File.Path)
		if old != nil && !used[old.rowID] && old.same(f.entry, log) {
			used[old.rowID] = true
			after = append(after, state{old.queue, old.sender, old.size})
			continue
		}
		// A row at another path can only move here when no row holds this path.
		if r := movable(rows, used, f.entry, log); r != nil && (old == nil || r == old) {
			if err := s.move(ctx, r, f.entry); err != nil {
				return state{}, false, err
			}
			used[r.rowID], touched = true, true
			after = append(after, state{f.entry.Queue, r.sender, r.size})
			continue
		}
		if f.msg == nil {
			if err := readOne(s.sp, f); err != nil {
				return state{}, false, err
			}
			if f.unread != nil {
				return state{}, false, f.unread // the transaction changes nothing
			}
			if f.msg == nil {
				continue // gone meanwhile
			}
		}
		if old != nil && !used[old.rowID] {
			if err := s.w.remove(ctx, old.rowID); err != nil {
				return state{}, false, err
			}
			used[old.rowID] = true
		}
		if err := s.w.insert(ctx, f.msg); err != nil {
			return state{}, false, err
		}
		touched = true
		after = append(after, state{f.msg.Queue, f.msg.Sender, f.msg.Size})
	}
	for _, r := range rows {
		if !used[r.rowID] {
			if err := s.w.remove(ctx, r.rowID); err != nil {
				return state{}, false, err
			}
			touched = true
		}
	}
	return primaryState(after, s.sp.Meaning()), touched, nil
}

// movable returns the row of a file that was only renamed (or chmod'ed) into e: same inode,
// size and mtime, same defer log. Files involving corrupt/ or a misplaced path are re-read,
// since their error text depends on where they are.
func movable(rows []indexedFile, used map[int64]bool, e mqsql.Entry, log mqsql.LogStamp) *indexedFile {
	if e.Queue == mqsql.Corrupt || e.Misplaced != "" {
		return nil
	}
	for i := range rows {
		r := &rows[i]
		if used[r.rowID] || r.queue == mqsql.Corrupt || strings.HasPrefix(r.errText.String, "misplaced") {
			continue
		}
		if sameContent(r.stamp, diskStamp(e, log), e.NoLog) {
			return r
		}
	}
	return nil
}

// move points row r at the file e now is: its queue, path and mode (and so forced_expire),
// the named queue its new place is in, and whether the MTA's listing shows it there.
func (s *storer) move(ctx context.Context, r *indexedFile, e mqsql.Entry) error {
	if s.relocate == nil {
		st, err := s.tx.PrepareContext(ctx, `UPDATE queue_files SET queue = ?, path = ?, mode = ?, locked = ?, forced_expire = ?, queue_name = ?, listed = ? WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("prepare index move: %w", err)
		}
		s.relocate = st
	}
	if _, err := s.relocate.ExecContext(ctx, string(e.Queue), e.File.Path, int64(e.File.Mode), e.File.Locked, e.ForcedExpire, null(e.QueueName), movedListed(s.sp, r, e), r.rowID); err != nil {
		return fmt.Errorf("index %s: %w", e.File.Path, err)
	}
	return nil
}

// primary is the state of the first of an ID's rows in the order of the MTA's listing (m):
// normally an ID has one file, and during a rename Postfix briefly gives it two.
func primary(rows []indexedFile, m *mqsql.Meaning) state {
	states := make([]state, len(rows))
	for i, r := range rows {
		states[i] = state{r.queue, r.sender, r.size}
	}
	return primaryState(states, m)
}

func primaryState(states []state, m *mqsql.Meaning) state {
	best := state{}
	rank := len(m.Queues)
	for _, s := range states {
		if r := slices.IndexFunc(m.Queues, func(q mqsql.QueueMeaning) bool { return q.Queue == s.queue }); r >= 0 && r < rank {
			best, rank = s, r
		}
	}
	return best
}

// same reports whether the row still describes the file found on disk: same inode, size,
// mode and mtime, and the same defer log.
func (r *indexedFile) same(e mqsql.Entry, log mqsql.LogStamp) bool {
	return unchanged(r.stamp, diskStamp(e, log), e.NoLog)
}

func byPath(rows []indexedFile, path string) *indexedFile {
	for i := range rows {
		if rows[i].path == path {
			return &rows[i]
		}
	}
	return nil
}
