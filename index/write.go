package index

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mqsql/mqsql"
)

// The columns of the tables, in the order the insert statements bind them.
const (
	fileColumns = `id, queue_id, queue, arrival_time, size, sender, forced_expire, recipient_count,
		next_attempt, subject, from_header, message_id, client_address, helo_name, sasl_username,
		file_size, inode, path, error, mode, mtime_ns, log_size, log_mtime_ns, log_ident,
		hold_reason, queue_name, locked, listed`
	fileColumnCount = 28
	rcptColumns     = `file_id, queue_id, address, orig_address, domain, status, delay_reason, dsn_status,
		diag_text, offset`
	rcptColumnCount = 10
)

// chunkSizes are the row counts of the multi-row INSERT statements a writer prepares, largest
// first. A statement costs about as much to run for one row as for many, so a batch of rows
// goes in as few statements as these sizes allow.
var chunkSizes = []int{32, 8, 1}

// writer holds the prepared statements of one index update.
type writer struct {
	tx                 *sql.Tx
	delFile, delRcpts  *sql.Stmt
	insFiles, insRcpts map[int]*sql.Stmt // by row count
	// fileArgs and rcptArgs are reused for the values of each batch.
	fileArgs, rcptArgs []any
	// nextID is the id the next file row gets. The writer numbers rows itself, as SQLite
	// would (one more than the largest), so that a batch of files and their recipients can
	// be inserted with a statement per table.
	nextID int64
}

func newWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	w := &writer{tx: tx, insFiles: map[int]*sql.Stmt{}, insRcpts: map[int]*sql.Stmt{}}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM queue_files`).Scan(&w.nextID); err != nil {
		return nil, fmt.Errorf("prepare index update: %w", err)
	}
	for _, s := range []struct {
		dst **sql.Stmt
		sql string
	}{
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
	for _, s := range []*sql.Stmt{w.delFile, w.delRcpts} {
		if s != nil {
			s.Close()
		}
	}
	for _, m := range []map[int]*sql.Stmt{w.insFiles, w.insRcpts} {
		for _, s := range m {
			s.Close()
		}
	}
}

// insert adds one message and its recipients.
func (w *writer) insert(ctx context.Context, m *mqsql.Message) error {
	return w.insertBatch(ctx, []*mqsql.Message{m})
}

// insertBatch adds messages and their recipients with a few multi-row statements.
func (w *writer) insertBatch(ctx context.Context, ms []*mqsql.Message) error {
	rows := make([]rowValues, len(ms))
	for i, m := range ms {
		rows[i] = valuesOf(m)
	}
	return w.insertRows(ctx, ms, rows)
}

// rowValues are the values of one message's rows, with the file id left to the writer: the
// bulk loader builds them on the reading goroutines, off the writer's path.
type rowValues struct {
	file  []any // fileColumnCount values, the first the id
	rcpts []any // rcptColumnCount values per recipient, each row's first the file id
}

func valuesOf(m *mqsql.Message) rowValues {
	return rowValues{
		file:  appendFileRow(make([]any, 0, fileColumnCount), 0, m),
		rcpts: appendRecipientRows(make([]any, 0, len(m.Recipients)*rcptColumnCount), 0, m),
	}
}

// insertRows adds messages, whose values rows holds, with a few multi-row statements. Should
// one fail, it inserts the messages one at a time, so that the error names the file at fault
// and the rows before it are in, as if they had been inserted singly from the start.
func (w *writer) insertRows(ctx context.Context, ms []*mqsql.Message, rows []rowValues) error {
	first := w.nextID
	files, rcpts := w.fileArgs[:0], w.rcptArgs[:0]
	defer func() { w.fileArgs, w.rcptArgs = clear0(files), clear0(rcpts) }()
	for _, r := range rows {
		id := w.nextID
		w.nextID++
		r.file[0] = id
		for i := 0; i < len(r.rcpts); i += rcptColumnCount {
			r.rcpts[i] = id
		}
		files = append(files, r.file...)
		rcpts = append(rcpts, r.rcpts...)
	}
	err := w.execChunks(ctx, w.insFiles, "queue_files", fileColumns, fileColumnCount, files)
	if err == nil {
		err = w.execChunks(ctx, w.insRcpts, "queue_recipients", rcptColumns, rcptColumnCount, rcpts)
	}
	if err == nil {
		return nil
	}
	return w.retrySingly(ctx, first, ms)
}

// retrySingly undoes a failed batch and inserts its messages one by one.
func (w *writer) retrySingly(ctx context.Context, first int64, ms []*mqsql.Message) error {
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM queue_recipients WHERE file_id >= ?`, first); err != nil {
		return fmt.Errorf("undo index rows: %w", err)
	}
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM queue_files WHERE id >= ?`, first); err != nil {
		return fmt.Errorf("undo index rows: %w", err)
	}
	w.nextID = first
	for _, m := range ms {
		if err := w.insertOne(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// insertOne adds one message with one statement per row, naming the row at fault on error.
func (w *writer) insertOne(ctx context.Context, m *mqsql.Message) error {
	id := w.nextID
	if err := w.execChunks(ctx, w.insFiles, "queue_files", fileColumns, fileColumnCount, appendFileRow(nil, id, m)); err != nil {
		return fmt.Errorf("index %s: %w", m.File.Path, err)
	}
	w.nextID++
	for _, r := range m.Recipients {
		row := appendRecipient(nil, id, m.QueueID, &r)
		if err := w.execChunks(ctx, w.insRcpts, "queue_recipients", rcptColumns, rcptColumnCount, row); err != nil {
			return fmt.Errorf("index %s recipient %q: %w", m.File.Path, r.Address, err)
		}
	}
	return nil
}

// execChunks inserts the rows in args (columns values each) with the prepared multi-row
// statements of chunkSizes.
func (w *writer) execChunks(ctx context.Context, stmts map[int]*sql.Stmt, table, columns string, width int, args []any) error {
	for rows := len(args) / width; rows > 0; {
		n := chunkFor(rows)
		st, err := w.stmt(ctx, stmts, table, columns, width, n)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args[:n*width]...); err != nil {
			return err
		}
		args, rows = args[n*width:], rows-n
	}
	return nil
}

func chunkFor(rows int) int {
	for _, n := range chunkSizes {
		if rows >= n {
			return n
		}
	}
	return 1
}

// stmt returns the statement inserting n rows into table, preparing it on first use.
func (w *writer) stmt(ctx context.Context, stmts map[int]*sql.Stmt, table, columns string, width, n int) (*sql.Stmt, error) {
	if st := stmts[n]; st != nil {
		return st, nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
	q := "INSERT INTO " + table + " (" + columns + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
	st, err := w.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare index update: %w", err)
	}
	stmts[n] = st
	return st, nil
}

func appendFileRow(args []any, id int64, m *mqsql.Message) []any {
	return append(args, id, m.QueueID, string(m.Queue), m.ArrivalTime, m.Size, m.Sender,
		m.ForcedExpire, m.PendingCount(), m.NextAttempt, null(m.Subject), null(m.FromHeader),
		null(m.MessageID), null(m.ClientAddress), null(m.HeloName), null(m.SASLUsername),
		m.File.Size, int64(m.File.Inode), m.File.Path, null(m.Error), int64(m.File.Mode),
		m.File.ModTimeNanos, m.File.Log.Size, m.File.Log.ModTimeNanos, null(m.LogIdent),
		null(m.HoldReason), null(m.QueueName), m.File.Locked, m.Listed)
}

func appendRecipientRows(args []any, id int64, m *mqsql.Message) []any {
	for i := range m.Recipients {
		args = appendRecipient(args, id, m.QueueID, &m.Recipients[i])
	}
	return args
}

func appendRecipient(args []any, id int64, queueID string, r *mqsql.Recipient) []any {
	var reason, status, diag any
	if r.Deferred {
		// A reason without a status code (Sendmail's "Deferred: Connection refused by …")
		// has no dsn_status: NULL, as for every other absent value.
		reason, status, diag = r.DelayReason, null(r.DSNStatus), null(r.DiagText)
	}
	return append(args, id, queueID, r.Address, null(r.OrigAddress), mqsql.Domain(r.Address),
		string(r.Status), reason, status, diag, r.Offset)
}

// clear0 empties a reused slice of values, so that it does not keep the last batch's
// strings alive.
func clear0(s []any) []any {
	clear(s)
	return s[:0]
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
