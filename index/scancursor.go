package index

import (
	"context"
	"errors"
	"fmt"

	"github.com/mqsql/mqsql"
	"modernc.org/sqlite/vtab"
)

// scanRow is one row of a virtual table, with the message it came from (nil for a row a walk
// filled in alone).
type scanRow struct {
	values []any
	msg    *mqsql.Message
}

// scanBatch is what a scan's producer sends: rows, or the error that ended the scan.
type scanBatch struct {
	rows []scanRow
	err  error
}

// scanCursor walks one Filter's rows: those of the places a queue_id names, found at once, or
// those a walk of the spool produces on other goroutines, a batch at a time.
type scanCursor struct {
	table  *scanTable
	rows   []scanRow
	pos    int
	in     <-chan scanBatch
	cancel context.CancelFunc
	rowid  int64
}

func (c *scanCursor) Filter(idxNum int, _ string, vals []vtab.Value) error {
	c.stop()
	c.rows, c.pos = nil, 0
	plan, arg := idxNum, 0
	id, idOK := "", false
	if plan&planQueueID != 0 {
		id, idOK = vals[arg].(string)
		arg++
		if !idOK {
			return nil // a queue_id is text: no row equals a number or NULL
		}
	}
	q := mqsql.Queue("")
	if plan&planQueue != 0 {
		s, ok := vals[arg].(string)
		if !ok {
			return nil
		}
		q = mqsql.Queue(s)
	}
	read := plan&planRead != 0
	if idOK && c.table.src.sp.ValidQueueID(id) {
		rows, err := c.table.lookup(id, q, read)
		c.rows = rows
		return err
	}
	c.start(id, idOK, q, read)
	return c.advance()
}

// lookup returns the rows of the files the driver's Locations names for id (in queue q
// alone, unless q is "").
func (t *scanTable) lookup(id string, q mqsql.Queue, read bool) ([]scanRow, error) {
	sp := t.src.sp
	var rows []scanRow
	seen := map[string]bool{}
	for _, p := range sp.Locations(id) {
		if seen[p.Path] || q != "" && p.Queue != q {
			continue
		}
		seen[p.Path] = true
		e, ok, err := sp.Stat(p.Queue, id, p.Path)
		if err != nil {
			// What is there is not known: the statement fails rather than say "no such
			// message" about a place it could not look at.
			return nil, fmt.Errorf("look up %s: %w", id, err)
		}
		if !ok {
			continue
		}
		m, err := t.message(e, read)
		if err != nil {
			return nil, err
		}
		if m != nil || !read {
			rows = append(rows, t.rowsOf(e, m)...)
		}
	}
	return rows, nil
}

// message reads e's message, or takes it from the messages read last; nil when the statement
// needs no read, or the file is gone or still being written.
func (t *scanTable) message(e mqsql.Entry, read bool) (*mqsql.Message, error) {
	if !read {
		return nil, nil
	}
	if m := t.src.cached(e); m != nil {
		return m, nil
	}
	m, err := t.src.sp.ReadWithin(e, nil)
	if errors.Is(err, mqsql.ErrGone) || errors.Is(err, mqsql.ErrIncomplete) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.File.Path, err)
	}
	return m, nil
}

// rowsOf is the rows of one file: from its message when read (the index's own row values,
// valuesOf), else from the entry alone.
func (t *scanTable) rowsOf(e mqsql.Entry, m *mqsql.Message) []scanRow {
	if m == nil {
		if t.kind != scanFiles {
			return nil
		}
		return []scanRow{{values: walkRow(e)}}
	}
	v := valuesOf(m)
	id := fileID(m.File.Path)
	if t.kind == scanFiles {
		v.file[0] = id
		return []scanRow{{values: v.file, msg: m}}
	}
	rows := make([]scanRow, 0, len(m.Recipients))
	for i := 0; i < len(v.rcpts); i += rcptColumnCount {
		r := v.rcpts[i : i+rcptColumnCount : i+rcptColumnCount]
		r[0] = id
		rows = append(rows, scanRow{values: r, msg: m})
	}
	return rows
}

// walkRow is a queue_files row with only walkColumns (and the queue) filled in.
func walkRow(e mqsql.Entry) []any {
	row := make([]any, fileColumnCount)
	v := fileScanColumns.values
	row[v["id"]], row[v["queue_id"]], row[v["queue"]] = fileID(e.File.Path), e.QueueID, string(e.Queue)
	row[v["file_size"]], row[v["inode"]], row[v["path"]] = e.File.Size, int64(e.File.Inode), e.File.Path
	row[v["mode"]], row[v["mtime_ns"]] = int64(e.File.Mode), e.File.ModTimeNanos
	return row
}

func (c *scanCursor) Next() error {
	c.pos++
	return c.advance()
}

// advance makes the row at pos current, waiting for the producer's next batch when the rows
// in hand are used up.
func (c *scanCursor) advance() error {
	for c.pos >= len(c.rows) && c.in != nil {
		b, ok := <-c.in
		if !ok {
			c.stop()
			break
		}
		if b.err != nil {
			c.stop()
			return b.err
		}
		c.rows, c.pos = b.rows, 0
	}
	if c.pos < len(c.rows) {
		c.rowid++
		if m := c.rows[c.pos].msg; m != nil {
			c.table.src.remember(m)
		}
	}
	return nil
}

func (c *scanCursor) Eof() bool { return c.pos >= len(c.rows) && c.in == nil }

func (c *scanCursor) Column(col int) (vtab.Value, error) {
	return scanValue(c.rows[c.pos].values[c.table.cols.perm[col]]), nil
}

func (c *scanCursor) Rowid() (int64, error) {
	if c.table.kind == scanFiles {
		return c.rows[c.pos].values[0].(int64), nil
	}
	return c.rowid, nil
}

func (c *scanCursor) Close() error {
	c.stop()
	return nil
}

// stop ends a running producer and waits until it has.
func (c *scanCursor) stop() {
	if c.cancel != nil {
		c.cancel()
	}
	if c.in != nil {
		for range c.in {
		}
	}
	c.in, c.cancel = nil, nil
}

// scanValue converts the Go integer types of the row values to the int64 a virtual table's
// column gives SQLite; the rest pass as they are.
func scanValue(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return v
}
