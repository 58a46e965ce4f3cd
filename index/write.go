package index

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mqsql/mqsql"
)

// writer holds the prepared statements of one index update.
type writer struct {
	insFile, insRcpt, delFile, delRcpts *sql.Stmt
}

func newWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	w := &writer{}
	for _, s := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.insFile, `INSERT INTO queue_files (queue_id, queue, arrival_time, size, sender, forced_expire,
			recipient_count, next_attempt, subject, from_header, message_id, client_address, helo_name,
			sasl_username, file_size, inode, path, error, mode, mtime_ns, log_size, log_mtime_ns)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&w.insRcpt, `INSERT INTO queue_recipients (file_id, queue_id, address, orig_address, domain, status,
			delay_reason, dsn_status, diag_text, offset) VALUES (?,?,?,?,?,?,?,?,?,?)`},
		{&w.delFile, `DELETE FROM queue_files WHERE id = ?`},
		{&w.delRcpts, `DELETE FROM queue_recipients WHERE file_id = ?`},
	} {
		st, err := tx.PrepareContext(ctx, s.sql)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare index update: %w", err)
		}
		*s.dst = st
	}
	return w, nil
}

func (w *writer) close() {
	for _, s := range []*sql.Stmt{w.insFile, w.insRcpt, w.delFile, w.delRcpts} {
		if s != nil {
			s.Close()
		}
	}
}

// insert adds one message and its recipients.
func (w *writer) insert(ctx context.Context, m *mqsql.Message) error {
	res, err := w.insFile.ExecContext(ctx, m.QueueID, string(m.Queue), m.ArrivalTime, m.Size, m.Sender,
		m.ForcedExpire, m.PendingCount(), m.NextAttempt, null(m.Subject), null(m.FromHeader),
		null(m.MessageID), null(m.ClientAddress), null(m.HeloName), null(m.SASLUsername),
		m.File.Size, int64(m.File.Inode), m.File.Path, null(m.Error), int64(m.File.Mode),
		m.File.ModTimeNanos, m.File.LogSize, m.File.LogModTimeNanos)
	if err != nil {
		return fmt.Errorf("index %s: %w", m.File.Path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("index %s: %w", m.File.Path, err)
	}
	for _, r := range m.Recipients {
		var reason, status, diag any
		if r.Deferred {
			reason, status, diag = r.DelayReason, r.DSNStatus, null(r.DiagText)
		}
		if _, err := w.insRcpt.ExecContext(ctx, id, m.QueueID, r.Address, null(r.OrigAddress),
			mqsql.Domain(r.Address), string(r.Status), reason, status, diag, r.Offset); err != nil {
			return fmt.Errorf("index %s recipient %q: %w", m.File.Path, r.Address, err)
		}
	}
	return nil
}

// remove drops one file's rows.
func (w *writer) remove(ctx context.Context, id int64) error {
	if _, err := w.delRcpts.ExecContext(ctx, id); err != nil {
		return fmt.Errorf("drop index rows: %w", err)
	}
	if _, err := w.delFile.ExecContext(ctx, id); err != nil {
		return fmt.Errorf("drop index rows: %w", err)
	}
	return nil
}

// null maps "" to SQL NULL, for values Postfix leaves out when they are empty.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
