package maillog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mqsql/mqsql"
)

// insertDelivery adds one deliveries row.
const insertDelivery = `INSERT INTO deliveries (time, queue_id, recipient, orig_recipient, relay, delay, dsn,
	status, response, host, instance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// mergeMessage merges what one line says about a message into its log_messages row. A queue
// ID seen again after its message was removed names a new message (Postfix reuses short
// IDs), whose row replaces the old one.
const mergeMessage = `INSERT INTO log_messages (queue_id, first_seen, sender, size, nrcpt, client_address,
	sasl_username, message_id, removed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (queue_id) DO UPDATE SET
	first_seen = iif(reused, excluded.first_seen, min(first_seen, excluded.first_seen)),
	sender = iif(reused, excluded.sender, coalesce(excluded.sender, sender)),
	size = iif(reused, excluded.size, coalesce(excluded.size, size)),
	nrcpt = iif(reused, excluded.nrcpt, coalesce(excluded.nrcpt, nrcpt)),
	client_address = iif(reused, excluded.client_address, coalesce(excluded.client_address, client_address)),
	sasl_username = iif(reused, excluded.sasl_username, coalesce(excluded.sasl_username, sasl_username)),
	message_id = iif(reused, excluded.message_id, coalesce(excluded.message_id, message_id)),
	removed = iif(reused, excluded.removed, coalesce(removed, excluded.removed))`

// reusedCond is when a merged line starts a new message under an old ID: the old one was
// removed before this line's time.
const reusedCond = `(removed IS NOT NULL AND excluded.first_seen > removed)`

var mergeMessageSQL = strings.ReplaceAll(mergeMessage, "reused", reusedCond)

// savePosition records how far a file was read.
const savePosition = `INSERT INTO log_positions (head, path, offset, lines, unreadable, read_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (head) DO UPDATE SET path = excluded.path, offset = excluded.offset,
	lines = lines + excluded.lines, unreadable = unreadable + excluded.unreadable, read_at = excluded.read_at`

// batch is one transaction's worth of records, written with the position they reach.
type batch struct {
	tx                *sql.Tx
	delivery, message *sql.Stmt
	records           int
	cutoff            float64 // records older than this are past retention and not kept
	// messages are the batch's lines about each message, merged: one upsert per message
	// instead of one per line (a Postfix message has four or five such lines).
	messages map[string]*pendingMessage
}

// begin opens a batch's transaction and prepares its statements.
func begin(ctx context.Context, db *sql.DB, cutoff float64) (*batch, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("history: begin: %w", err)
	}
	b := &batch{tx: tx, cutoff: cutoff}
	if b.delivery, err = tx.PrepareContext(ctx, insertDelivery); err == nil {
		b.message, err = tx.PrepareContext(ctx, mergeMessageSQL)
	}
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("history: prepare: %w", err)
	}
	return b, nil
}

// add writes one record.
func (b *batch) add(ctx context.Context, r *mqsql.LogRecord) error {
	if r.Time < b.cutoff {
		return nil
	}
	b.records++
	var err error
	switch r.Kind {
	case mqsql.LogDelivery:
		d := &r.Delivery
		_, err = b.delivery.ExecContext(ctx, r.Time, r.QueueID, null(d.Recipient), null(d.OrigRecipient),
			null(d.Relay), nullDelay(d.Delay), null(d.DSN), d.Status, null(d.Response), null(r.Host), null(r.Instance))
	case mqsql.LogMessageSeen:
		err = b.mergeMessage(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("history: write %s: %w", r.QueueID, err)
	}
	return nil
}

// commit saves pos with the batch's rows, in the same transaction.
func (b *batch) commit(ctx context.Context, pos position, now float64) error {
	defer b.tx.Rollback()
	if err := b.writeMessages(ctx); err != nil {
		return err
	}
	if pos.head != "" {
		if _, err := b.tx.ExecContext(ctx, savePosition, pos.head, pos.path, pos.offset, pos.newLines, pos.newBad, now); err != nil {
			return fmt.Errorf("history: save position of %s: %w", pos.path, err)
		}
	}
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("history: commit: %w", err)
	}
	return nil
}

// abort drops the batch.
func (b *batch) abort() { b.tx.Rollback() }

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullDelay(d float64) any {
	if d < 0 {
		return nil
	}
	return d
}
