package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mqsql/mqsql"
)

// The values of events.event: what happened to a queue ID between two looks at it.
const (
	// EventArrived: the queue ID is in a queue and was in none before.
	EventArrived = "arrived"
	// EventMoved: the queue ID is in another queue than before (from_queue → to_queue).
	EventMoved = "moved"
	// EventLeft: the queue ID is gone from every queue (delivered, bounced, deleted).
	EventLeft = "left"
	// EventChanged: same queue, but the file or its defer log changed (a recipient done, a new
	// delay reason, a retry time, a forced expiry).
	EventChanged = "changed"
)

// change is one row of the events table: the net effect one refresh had on one queue ID.
type change struct {
	at       time.Time
	queueID  string
	kind     string
	from, to string
	sender   string
	size     int64
	// unknown: sender and size are not known (NULL), for mail that came and went between
	// two looks.
	unknown bool
}

// state is where a queue ID is, as far as events care: its queue, sender and size. The zero
// value (queue "") means it is in no queue.
type state struct {
	queue  mqsql.Queue
	sender string
	size   int64
}

// classify turns the state of a queue ID before and after a refresh into an events row;
// l is the spool's layout, touched says whether any of its rows were rewritten, d is what the events said. It returns
// false when nothing a user would call a change happened.
func classify(l mqsql.Layout, id string, d *dirtyID, before, after state, touched bool) (change, bool) {
	c := change{at: d.since, queueID: id, from: string(before.queue), to: string(after.queue), sender: after.sender, size: after.size}
	switch {
	case before.queue == "" && after.queue == "":
		return passedThrough(l, id, d)
	case before.queue == "":
		c.kind = EventArrived
	case after.queue == "":
		c.kind, c.sender, c.size = EventLeft, before.sender, before.size
	case before.queue != after.queue:
		c.kind = EventMoved
	case touched:
		c.kind = EventChanged
	default:
		return change{}, false
	}
	return c, true
}

// passedThrough is the events row of mail that arrived and left between two looks (a local
// delivery takes milliseconds): never indexed, gone now, but events named it in a queue only
// complete mail reaches. It left from the last such queue; sender and size are unknown. Events
// only in incoming or maildrop prove nothing: a file there may never have been complete.
func passedThrough(l mqsql.Layout, id string, d *dirtyID) (change, bool) {
	if q, ok := lastCompleteQueue(l, d.hints); ok {
		return change{at: d.since, queueID: id, kind: EventLeft, from: string(q), unknown: true}, true
	}
	return change{}, false
}

// lastCompleteQueue returns the last queue among hints that only complete mail reaches (not
// incoming or maildrop).
func lastCompleteQueue(l mqsql.Layout, hints []string) (mqsql.Queue, bool) {
	for i := len(hints) - 1; i >= 0; i-- {
		q, ok := l.QueueOfPath(hints[i])
		if ok && l.OnlyComplete(q) {
			return q, true
		}
	}
	return "", false
}

// insertEvents writes events rows inside the refresh's transaction, so a reader sees the rows
// and the events that explain them together. Each row carries the reason of the mqsql
// operation that caused it, when one was recorded (see explain).
func insertEvents(ctx context.Context, tx *sql.Tx, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO events (time, queue_id, event, from_queue, to_queue, sender, size, reason, audit_id) VALUES (?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	defer st.Close()
	var pending bool // whether any intent waits: most refreshes follow no mqsql operation
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM intents)`).Scan(&pending); err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	for _, c := range changes {
		var why intent
		if pending {
			if why, err = explain(ctx, tx, c); err != nil {
				return fmt.Errorf("record event for %s: %w", c.queueID, err)
			}
		}
		secs := float64(c.at.UnixMicro()) / 1e6
		var sender, size any = c.sender, c.size
		if c.unknown {
			sender, size = nil, nil
		}
		if _, err := st.ExecContext(ctx, secs, c.queueID, c.kind, null(c.from), null(c.to), sender, size, why.reason, why.auditID); err != nil {
			return fmt.Errorf("record event for %s: %w", c.queueID, err)
		}
	}
	return nil
}

// intent is the row of the intents table that explains an event; the zero value explains
// nothing (NULL reason and audit_id).
type intent struct {
	rowID           int64
	reason, auditID any
	reappears       bool // it has a log_ident: its message comes back under a new ID
}

// explain finds and consumes the intent that says why c happened: the newest for c's queue ID,
// or, for an arrival, the newest whose log_ident is the arriving file's (a requeued or restored
// message: its copy in maildrop, or the new file pickup made of it).
func explain(ctx context.Context, tx *sql.Tx, c change) (intent, error) {
	in, ok, err := explainByID(ctx, tx, c.queueID)
	if ok || err != nil || c.kind != EventArrived {
		return in, err
	}
	return explainByLogIdent(ctx, tx, c)
}

// explainByID returns the newest intent for id and consumes it, with any older ones of id,
// unless its message is still to reappear under a new ID.
func explainByID(ctx context.Context, tx *sql.Tx, id string) (intent, bool, error) {
	var in intent
	err := tx.QueryRowContext(ctx, `SELECT rowid, reason, audit_id, log_ident IS NOT NULL FROM intents
		WHERE queue_id = ? ORDER BY time DESC, rowid DESC LIMIT 1`, id).Scan(&in.rowID, &in.reason, &in.auditID, &in.reappears)
	if errors.Is(err, sql.ErrNoRows) {
		return intent{}, false, nil
	} else if err != nil {
		return intent{}, false, err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM intents WHERE queue_id = ? AND (rowid != ? OR NOT ?)`, id, in.rowID, in.reappears)
	return in, true, err
}

// explainByLogIdent returns the newest intent with the log_ident of the arriving file c. An
// arrival in maildrop is the message's copy there (a restore's): the intent, if it had no
// queue ID, takes the copy's, so that the copy's later events say why too. An arrival elsewhere
// is the new file pickup made: the message has reappeared, and only its ID (if any) can still
// use the intent.
func explainByLogIdent(ctx context.Context, tx *sql.Tx, c change) (intent, error) {
	var in intent
	err := tx.QueryRowContext(ctx, `SELECT i.rowid, i.reason, i.audit_id FROM intents i
		JOIN queue_files f ON f.log_ident = i.log_ident
		WHERE f.queue_id = ? ORDER BY i.time DESC, i.rowid DESC LIMIT 1`, c.queueID).Scan(&in.rowID, &in.reason, &in.auditID)
	if errors.Is(err, sql.ErrNoRows) {
		return intent{}, nil
	} else if err != nil {
		return intent{}, err
	}
	if c.to == string(mqsql.Maildrop) {
		_, err = tx.ExecContext(ctx, `UPDATE intents SET queue_id = ? WHERE rowid = ? AND queue_id = ''`, c.queueID, in.rowID)
		return in, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE intents SET log_ident = NULL WHERE rowid = ?`, in.rowID)
	if err == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM intents WHERE rowid = ? AND queue_id = ''`, in.rowID)
	}
	return in, err
}

// intentLifetime is how long a write statement's intent waits for the watcher to see its
// message move: postsuper acts within seconds, so an older intent belongs to a message the
// statement skipped or failed, and must not explain a later change.
const intentLifetime = 10 * time.Minute

// RecordIntents notes, before a write statement (or restore) acts, why the messages it is
// about to change will move (e.g. "deleted by mqsql") and which audit record says so, so that
// the watcher keeping this index (in this process or another) can record the reason with the
// events. An intent whose message reappears under a new queue ID keeps the message's
// log_ident, from the caller or from the index's row of its queue ID. Intents older than
// intentLifetime are dropped at the same time.
func (ix *Index) RecordIntents(ctx context.Context, auditID string, intents []mqsql.Intent) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record intents: %w", err)
	}
	defer tx.Rollback()
	now := float64(ix.Now().UnixMicro()) / 1e6
	if _, err := tx.ExecContext(ctx, `DELETE FROM intents WHERE time < ?`, now-intentLifetime.Seconds()); err != nil {
		return fmt.Errorf("record intents: %w", err)
	}
	for _, in := range intents {
		var ident any // NULL: the index's row of QueueID says, if the message reappears
		if in.Reappears && in.LogIdent != "" {
			ident = in.LogIdent
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO intents (queue_id, reason, audit_id, time, log_ident) VALUES (?1, ?2, ?3, ?4,
			coalesce(?5, CASE WHEN ?6 THEN (SELECT log_ident FROM queue_files WHERE queue_id = ?1 AND log_ident IS NOT NULL LIMIT 1) END))`,
			in.QueueID, in.Reason, auditID, now, ident, in.Reappears); err != nil {
			return fmt.Errorf("record intents: %w", err)
		}
	}
	return tx.Commit()
}

// pruneBatch bounds how many events rows one pruning transaction deletes, so that pruning a
// week of a storm never holds the write lock long.
const pruneBatch = 5000

// PruneEvents deletes events rows older than before, in short transactions, and returns how
// many it deleted. The watcher calls it to keep the table within its retention period.
func (ix *Index) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	cutoff := float64(before.UnixMicro()) / 1e6
	var total int64
	for {
		res, err := ix.db.ExecContext(ctx, `DELETE FROM events WHERE rowid IN
			(SELECT rowid FROM events WHERE time < ? LIMIT ?)`, cutoff, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
