package index

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mqsql/mqsql"
)

// movedListed says whether the MTA's listing shows the message of row r once its file is e
// (a rename or chmod: the content is the same, its queue, path or mode are not), asking the
// driver's rule with the message as the row keeps it.
func movedListed(sp mqsql.Spool, r *indexedFile, e mqsql.Entry) bool {
	m := &mqsql.Message{
		QueueID: r.queueID, Queue: e.Queue, Size: r.size, Sender: r.sender,
		Error: r.errText.String, ForcedExpire: e.ForcedExpire, QueueName: e.QueueName,
		File: e.File, // the same content as the row's: only its place, mode or lock differ
	}
	return sp.Meaning().Listed(m)
}

// declareQueues writes the driver's queues into the queues table (schema.sql), which the
// views read instead of a list of one MTA's queue names. It changes the table only when it
// differs, so that a warm start with nothing to do writes nothing.
func declareQueues(ctx context.Context, tx *sql.Tx, m *mqsql.Meaning) error {
	var have, want string
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(group_concat(queue || ':' || listed, ' '), '')
		FROM (SELECT queue, listed FROM queues ORDER BY position)`).Scan(&have); err != nil {
		return fmt.Errorf("read the queues of the index: %w", err)
	}
	for i, q := range m.Queues {
		if i > 0 {
			want += " "
		}
		want += fmt.Sprintf("%s:%d", q.Queue, boolInt(q.Listed))
	}
	if have == want {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM queues`); err != nil {
		return fmt.Errorf("write the queues of the index: %w", err)
	}
	for i, q := range m.Queues {
		if _, err := tx.ExecContext(ctx, `INSERT INTO queues (queue, position, listed) VALUES (?, ?, ?)`,
			string(q.Queue), i, q.Listed); err != nil {
			return fmt.Errorf("write the queues of the index: %w", err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
