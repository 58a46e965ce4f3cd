package index

import (
	"context"

	"github.com/mqsql/mqsql"
)

// start walks the spool for a Filter on other goroutines, sending rows to the cursor a batch
// at a time: queue q's files alone when q is set (the plan pushes it down only for a
// mqsql.QueueWalker), every file otherwise; files whose queue ID is not id when idSet (an ID
// the driver's Locations cannot name, as corrupt files may have). Files are read, in
// parallel as a cold Sync reads them, only when read is set.
func (c *scanCursor) start(id string, idSet bool, q mqsql.Queue, read bool) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan scanBatch, 4)
	c.in, c.cancel = out, cancel
	t := c.table
	want := func(e mqsql.Entry) (bool, int64) { return !idSet || e.QueueID == id, 0 }
	go func() {
		defer close(out)
		var err error
		if read {
			_, err = t.src.ix.load(ctx, t.src.sp, t.walk(q, true), want, func(batch []result) error {
				return t.sendResults(ctx, out, batch)
			})
		} else {
			err = t.walkOnly(ctx, t.walk(q, false), want, out)
		}
		if err != nil && ctx.Err() == nil {
			out <- scanBatch{err: err}
		}
	}()
}

// walk is the walk a scan of queue q (all queues when "") lists its files with.
func (t *scanTable) walk(q mqsql.Queue, read bool) spoolWalk {
	sp := t.src.sp
	if qw, ok := sp.(mqsql.QueueWalker); ok && q != "" {
		return func(ctx context.Context, fn func(mqsql.Entry) error) error { return qw.WalkQueue(ctx, q, fn) }
	}
	if read {
		return sp.WalkForRead // every file is read, and the read checks it
	}
	return sp.WalkParallel
}

// sendResults sends the rows of the messages read.
func (t *scanTable) sendResults(ctx context.Context, out chan<- scanBatch, batch []result) error {
	var rows []scanRow
	for _, r := range batch {
		rows = append(rows, t.rowsOf(mqsql.Entry{}, r.msg)...)
	}
	return send(ctx, out, rows)
}

// walkOnly sends a row per file the walk lists, from its entry alone.
func (t *scanTable) walkOnly(ctx context.Context, walk spoolWalk, want func(mqsql.Entry) (bool, int64), out chan<- scanBatch) error {
	batches := make(chan []work, 4)
	var walkErr error
	go func() {
		defer close(batches)
		walkErr = walkBatches(ctx, walk, want, batches)
	}()
	var sendErr error
	for batch := range batches {
		if sendErr != nil {
			continue
		}
		rows := make([]scanRow, 0, len(batch))
		for _, w := range batch {
			rows = append(rows, t.rowsOf(w.entry, nil)...)
		}
		sendErr = send(ctx, out, rows)
	}
	if sendErr != nil {
		return sendErr
	}
	return walkErr
}

func send(ctx context.Context, out chan<- scanBatch, rows []scanRow) error {
	if len(rows) == 0 {
		return nil
	}
	select {
	case out <- scanBatch{rows: rows}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
