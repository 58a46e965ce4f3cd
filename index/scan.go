package index

import (
	"hash/fnv"
	"sync"

	"github.com/mqsql/mqsql"
	"modernc.org/sqlite/vtab"
)

// scanKind is which base table a virtual table of a direct database stands for.
type scanKind int

const (
	scanFiles scanKind = iota
	scanRecipients
)

// walkColumns are the columns of queue_files that an entry of a walk or a Stat fills in
// without reading the file: its place and its stamp. A statement using no others reads no
// file. The queue joins them for a driver whose queues are places (mqsql.QueueWalker).
var walkColumns = []string{"id", "queue_id", "file_size", "inode", "path", "mode", "mtime_ns"}

// The bits of a plan's IdxNum.
const (
	planQueueID = 1 << iota // Filter's first value is the queue_id sought
	planQueue               // Filter's next value is the queue sought
	planRead                // the statement uses columns only a read of the file gives
)

// scanModule makes the virtual tables of one direct database.
type scanModule struct {
	kind scanKind
	src  *scanSource
}

func (m *scanModule) Create(ctx vtab.Context, args []string) (vtab.Table, error) {
	return m.Connect(ctx, args)
}

func (m *scanModule) Connect(ctx vtab.Context, _ []string) (vtab.Table, error) {
	name := "queue_files"
	if m.kind == scanRecipients {
		name = "queue_recipients"
	}
	if err := ctx.Declare(tableStatement(name)); err != nil {
		return nil, err
	}
	cols := fileScanColumns
	if m.kind == scanRecipients {
		cols = rcptScanColumns
	}
	return &scanTable{kind: m.kind, src: m.src, cols: cols}, nil
}

// scanTable is queue_files or queue_recipients answered from the spool.
type scanTable struct {
	kind scanKind
	src  *scanSource
	cols scanColumns
}

// BestIndex pushes down equality on queue_id (the places the driver's Locations names) and,
// for a driver whose queues are places, on queue (that queue's files alone). SQLite checks
// every constraint again (none is omitted), so a plan narrows what is read, never what is
// true. An IN list reaches Filter one value at a time.
func (t *scanTable) BestIndex(info *vtab.IndexInfo) error {
	plan, arg := 0, 0
	use := func(col, bit int) {
		for i := range info.Constraints {
			c := &info.Constraints[i]
			if c.Usable && c.Op == vtab.OpEQ && c.Column == col {
				c.ArgIndex, plan = arg, plan|bit
				arg++
				return
			}
		}
	}
	use(t.cols.schema["queue_id"], planQueueID)
	_, places := t.src.sp.(mqsql.QueueWalker)
	if t.kind == scanFiles && places {
		use(t.cols.schema["queue"], planQueue)
	}
	if t.needsRead(info.ColUsed, places) {
		plan |= planRead
	}
	info.IdxNum = int64(plan)
	switch {
	case plan&planQueueID != 0:
		info.EstimatedCost, info.EstimatedRows = 10, 2
	case plan&planQueue != 0:
		info.EstimatedCost, info.EstimatedRows = 10_000, 1_000
	default:
		info.EstimatedCost, info.EstimatedRows = 1_000_000, 100_000
	}
	if plan&planRead == 0 {
		info.EstimatedCost /= 10 // a walk lists files without opening them
	}
	return nil
}

// needsRead reports whether a statement using the columns in used needs the files read.
func (t *scanTable) needsRead(used uint64, places bool) bool {
	if t.kind == scanRecipients {
		return true // one row per recipient: only the file says how many
	}
	var walk uint64
	for _, c := range walkColumns {
		walk |= 1 << t.cols.schema[c]
	}
	if places {
		walk |= 1 << t.cols.schema["queue"]
	}
	return used&^walk != 0
}

// Open starts a cursor, at the start of a statement: the messages read for an earlier one are
// forgotten, since a defer log may have changed without its queue file.
func (t *scanTable) Open() (vtab.Cursor, error) {
	t.src.forget()
	return &scanCursor{table: t}, nil
}
func (t *scanTable) Disconnect() error { return nil }
func (t *scanTable) Destroy() error    { return nil }

// scanSource is the spool the tables of a direct database read, with the messages read last,
// which both tables share: a join of recipients to messages reads each file once.
type scanSource struct {
	ix *Index
	sp mqsql.Spool
	mu sync.Mutex
	// recent holds the last messages a cursor moved onto, newest last.
	recent []*mqsql.Message
}

// recentMessages is how many messages scanSource keeps: a join holds one current message
// per table of a statement, and a few tables' worth is enough.
const recentMessages = 8

func newScanSource(ix *Index, sp mqsql.Spool) *scanSource { return &scanSource{ix: ix, sp: sp} }

// remember records m as the message a cursor is on.
func (s *scanSource) remember(m *mqsql.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recent {
		if r == m {
			return
		}
	}
	if len(s.recent) == recentMessages {
		s.recent = append(s.recent[:0], s.recent[1:]...)
	}
	s.recent = append(s.recent, m)
}

// forget drops the messages read so far.
func (s *scanSource) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.recent)
	s.recent = s.recent[:0]
}

// cached returns the message read last from e's file when the file has not changed since.
func (s *scanSource) cached(e mqsql.Entry) *mqsql.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.recent) - 1; i >= 0; i-- {
		f := s.recent[i].File
		if f.Path == e.File.Path && f.Inode == e.File.Inode && f.Size == e.File.Size && f.ModTimeNanos == e.File.ModTimeNanos {
			return s.recent[i]
		}
	}
	return nil
}

// fileID is the id of the file at path: the same in queue_files.id and
// queue_recipients.file_id for the whole life of a direct database, without a table of them.
func fileID(path string) int64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return int64(h.Sum64() >> 1)
}
