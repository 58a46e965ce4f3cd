package index

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqsql/mqsql"
)

// Stats describes one pass of Sync, for progress displays and logs.
type Stats struct {
	Files     int // message files seen in the spool
	Read      int // of those, read because they were new or changed
	Unchanged int
	Removed   int // rows dropped because their file is gone
	Damaged   int // files read with an error
	Elapsed   time.Duration
}

// stamp is what the index remembers of a file to tell whether it changed.
type stamp struct {
	id                  int64
	inode, size, mode   int64
	mtimeNs             int64
	logSize, logMtimeNs int64
	// seen is set (atomically: walkers whose paths share a key may set it at once) when
	// the walk finds the file still there; ambiguous marks a path whose hash another row's
	// path shares (see knownFiles).
	seen      uint32
	ambiguous bool
}

// Sync makes the index equal to the spool: it reads the files that are new or whose inode,
// size, mode, mtime or defer log changed, and drops rows whose files are gone. On an empty
// index that is a full load. Files are read in parallel; all writes go through one
// transaction, so readers of a file index see either the old state or the new one.
func (ix *Index) Sync(ctx context.Context, sp mqsql.Spool) (Stats, error) {
	start := time.Now()
	var st Stats
	if ix.direct {
		return st, ErrDirect
	}
	defer debug.SetGCPercent(debug.SetGCPercent(warmGCPercent))
	walk, logsInEntries := stampWalk(sp)
	known, err := ix.known(ctx, sp, logsInEntries)
	if err != nil {
		return st, err
	}
	cold := known.empty()
	if cold {
		walk = sp.WalkForRead // every file is read anyway, and the read checks it
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("begin index update: %w", err)
	}
	defer tx.Rollback()
	// A full load drops the running totals' triggers and rebuilds the totals at its end, when
	// the index keeps them (KeepRunningTotals); a warm one lets the triggers follow each row.
	keepTotals := false
	if cold {
		if keepTotals, err = summariesKept(ctx, tx); err != nil {
			return st, err
		}
		if err := dropSummaryTriggers(ctx, tx); err != nil {
			return st, err
		}
		debug.SetGCPercent(bulkGCPercent) // the deferred call above restores the caller's
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), bulkMemoryLimit)))
	}
	w, err := newWriter(ctx, tx)
	if err != nil {
		return st, err
	}
	defer w.close()
	var tracked *knownFiles // what a warm Sync changes, for its stamp cache
	if !cold {
		tracked = known
	}
	for _, id := range known.ambiguous {
		if err := w.remove(ctx, id); err != nil {
			return st, err
		}
	}

	var files, unchanged atomic.Int64 // counted by the walkers, several at once
	incomplete, err := ix.load(ctx, sp, walk, func(e mqsql.Entry) (bool, int64) {
		files.Add(1)
		read, oldID := known.want(e)
		if !read {
			unchanged.Add(1)
		}
		return read, oldID
	}, func(batch []result) error {
		return ix.storeBatch(ctx, w, batch, &st, start, tracked)
	})
	st.Files, st.Unchanged = int(files.Load()), int(unchanged.Load())
	st.Files -= incomplete // files the walk left for the readers to find still being written
	if err != nil {
		return st, err
	}
	if st.Removed, err = known.removeUnseen(ctx, w); err != nil {
		return st, err
	}
	_, indexes := schemaParts()
	if _, err := tx.ExecContext(ctx, indexes); err != nil {
		return st, fmt.Errorf("create indexes: %w", err)
	}
	if keepTotals {
		if err := ensureSummaries(ctx, tx); err != nil {
			return st, err
		}
	}
	if tracked != nil {
		if err := tracked.saveCache(ctx, tx); err != nil {
			return st, err
		}
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("commit index update: %w", err)
	}
	if ix.walPending {
		if err := ix.useWAL(ctx); err != nil {
			return st, err
		}
		ix.walPending = false
	}
	st.Elapsed = time.Since(start)
	if ix.OnProgress != nil {
		ix.OnProgress(st)
	}
	return st, nil
}

// storeBatch replaces the rows of the files in batch by what was read, and counts them; a
// warm Sync notes in known (nil for a full load) which rows it dropped and wrote.
func (ix *Index) storeBatch(ctx context.Context, w *writer, batch []result, st *Stats, start time.Time, known *knownFiles) error {
	msgs := make([]*mqsql.Message, len(batch))
	rows := make([]rowValues, len(batch))
	for i, r := range batch {
		msgs[i], rows[i] = r.msg, r.rows
		if r.msg.Error != "" {
			st.Damaged++
		}
		if r.oldID != 0 {
			if err := w.remove(ctx, r.oldID); err != nil {
				return err
			}
			known.noteReplaced(r.oldID)
		}
	}
	if err := w.insertRows(ctx, msgs, rows); err != nil {
		return err
	}
	known.noteInserted(msgs, rows)
	before := st.Read
	st.Read += len(batch)
	if ix.OnProgress != nil && st.Read/progressEvery != before/progressEvery {
		st.Elapsed = time.Since(start)
		ix.OnProgress(*st)
	}
	return nil
}

// progressEvery is how many files Sync reads between progress reports.
const progressEvery = 5000

// matches reports whether the row still describes e, whose delay log has stamp log (zero for
// none).
func (s stamp) matches(e mqsql.Entry, log mqsql.LogStamp) bool {
	return s.fileStamp().unchanged(diskStamp(e, walkLogStamp(log)))
}

// batchSize is how many files travel together between the walk, the readers and the writer:
// handing over files one by one costs more in goroutine switches than reading them.
const batchSize = 64

// work is a file to read, with the row it replaces (0 = none).
type work struct {
	entry mqsql.Entry
	oldID int64
}

// result is a message read, the values of its rows, and the row it replaces.
type result struct {
	msg   *mqsql.Message
	rows  rowValues
	oldID int64
}

// load walks the spool with walk, reads the entries want selects on several goroutines, and
// hands the messages to store a batch at a time, in the calling goroutine. want says whether
// to read a file and which row, if any, it replaces; the walking goroutines call it several at
// once. It returns how many files the readers found still being written, which a walk that
// does not lstat them (WalkForRead) leaves to them.
func (ix *Index) load(ctx context.Context, sp mqsql.Spool, walk spoolWalk, want func(mqsql.Entry) (bool, int64), store func([]result) error) (incomplete int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []work, 8)
	results := make(chan []result, 8)
	budget := mqsql.NewRecipientBudget(ctx.Done())
	var walkErr error
	go func() {
		defer close(batches)
		walkErr = walkBatches(ctx, walk, want, batches)
	}()
	var wg sync.WaitGroup
	var readErr error
	var once sync.Once
	var skipped atomic.Int64
	fail := func(err error) { once.Do(func() { readErr = err; cancel() }) }
	for range readers() {
		wg.Go(func() { readBatches(ctx, sp, budget, batches, results, &skipped, fail) })
	}
	go func() { wg.Wait(); close(results) }()
	var storeErr error
	for batch := range results {
		if storeErr == nil && len(batch) > 0 {
			if storeErr = store(batch); storeErr != nil {
				cancel()
			}
		}
		for _, r := range batch {
			budget.Release(r.msg)
		}
	}
	return int(skipped.Load()), errors.Join(storeErr, readErr, ignoreCanceled(walkErr, storeErr != nil || readErr != nil))
}

// spoolWalk is one of a Spool's parallel walks.
type spoolWalk = func(context.Context, func(mqsql.Entry) error) error

// stampWalk is the walk a warm Sync compares stamps along, and whether its entries carry
// their log stamps (mqsql.LogWalker), in which case the logs need no listing of their own.
func stampWalk(sp mqsql.Spool) (walk spoolWalk, logsInEntries bool) {
	if lw, ok := sp.(mqsql.LogWalker); ok {
		return lw.WalkParallelWithLogs, true
	}
	return sp.WalkParallel, false
}

// walkBatches walks the spool with walk and sends the files want selects, batchSize at a
// time. The walk runs on several goroutines, and so does want, several at once: on a warm
// start it is most of what the walk does between its system calls. The batch is filled by
// one at a time.
func walkBatches(ctx context.Context, walk spoolWalk, want func(mqsql.Entry) (bool, int64), out chan<- []work) error {
	var mu sync.Mutex
	batch := make([]work, 0, batchSize)
	send := func() error {
		select {
		case out <- batch:
			batch = make([]work, 0, batchSize)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := walk(ctx, func(e mqsql.Entry) error {
		read, oldID := want(e)
		if !read {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		batch = append(batch, work{e, oldID})
		if len(batch) == batchSize {
			return send()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = send()
	}
	return err
}

// readBatches reads the files of each batch within budget and sends the messages on; files
// gone since the walk are dropped, files still being written dropped and counted in skipped,
// and any other error stops the load through fail. A message that holds the budget's
// allowance for big messages goes to the writer at once, with the messages read before it,
// since no other big message can be read until it is stored.
func readBatches(ctx context.Context, sp mqsql.Spool, budget *mqsql.RecipientBudget, in <-chan []work, out chan<- []result, skipped *atomic.Int64, fail func(error)) {
	send := func(msgs []result) {
		select {
		case out <- msgs:
		case <-ctx.Done():
			for _, r := range msgs {
				budget.Release(r.msg)
			}
		}
	}
	for batch := range in {
		msgs := make([]result, 0, len(batch))
		for _, w := range batch {
			m, err := sp.ReadWithin(w.entry, budget)
			if errors.Is(err, mqsql.ErrGone) {
				continue
			}
			if errors.Is(err, mqsql.ErrIncomplete) {
				skipped.Add(1)
				continue
			}
			if err != nil {
				fail(err)
				continue
			}
			msgs = append(msgs, result{m, valuesOf(m), w.oldID})
			if budget.Holds(m) {
				send(msgs)
				msgs = make([]result, 0, len(batch))
			}
		}
		send(msgs)
	}
}

func ignoreCanceled(err error, canceledByUs bool) error {
	if canceledByUs && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// bulkGCPercent is the garbage collector's target during a full load. Reading a file leaves
// several kilobytes of short-lived garbage while the live heap stays small (the rows go to
// SQLite's own memory), so the default target collects every few hundred files; a higher
// one collects a fifth as often for a few tens of megabytes more.
const bulkGCPercent = 400

// bulkMemoryLimit is the Go heap size past which a full load's garbage collector runs however
// high bulkGCPercent lets the target rise: with a big message (100,000 recipients, 55 MB live
// while it is read and stored) the 400 % target alone would let the heap reach several
// hundred megabytes, mostly garbage. A normal full load stays below it (a cold build of
// 1,000,000 messages peaks at 54 MB RSS with an index file, docs/BENCHMARKS.md; SQLite's
// memory, in-memory index included, is not Go heap), so it costs nothing there. It is a soft
// limit: past it the collector works harder, nothing fails. Measured: a cold load of a
// generated 50,000-message queue ran 30 garbage collections without the limit and 31 with it
// (the heap never passed 4 MB), while a 100,000-recipient file's peak RSS fell from 174 MB
// (at 128 MB) to 126 MB. A warm Sync, whose live heap holds a stamp per file, keeps the
// caller's limit and warmGCPercent.
const bulkMemoryLimit = 64 << 20

// warmGCPercent is the garbage collector's target while Sync compares the index with the
// spool. What lives then is knownFiles, pointer-free and so cheap to mark however big, while
// reading the index and listing the spool leave much garbage: collecting at half the live size
// again, not the whole, keeps the peak memory of a warm start at a million messages well below
// 400 MB.
const warmGCPercent = 50

// readers is how many files are read at once. Reading a big queue is mostly waiting: for the
// disk when the spool is not in the page cache, for the kernel otherwise; more reads in flight
// than cores keep both the disk's queue and the cores busy.
func readers() int { return 4 * runtime.GOMAXPROCS(0) }

// knownFiles is what a warm Sync knows about the index's files and the defer logs, kept
// compactly: a million paths and queue IDs as map keys would cost more memory than the rest
// of the sync. The files' stamps sit in one slice, found by a 64-bit hash of the path; the
// logs' stamps by one of the queue ID. Should two rows' paths (or two logs' IDs) share a hash,
// the key is marked ambiguous: the rows are dropped up front and every file with that key is
// read again, so a collision costs a re-read, never a wrong answer.
type knownFiles struct {
	stamps    []stamp
	files     map[uint64]int32 // path hash → index in stamps
	logs      map[uint64]knownLog
	ambiguous []int64 // ids of the rows with an ambiguous key
	// logsInEntries says the walk's entries carry their log stamps (mqsql.LogWalker), and
	// logs is not used.
	logsInEntries bool
	// fromCache says the stamps came from the stamp cache (stampcache.go). replaced and
	// inserted are what a warm Sync changed: the rows it dropped to write them again, and
	// the rows it wrote; with the stamps it kept, they are the cache it writes.
	fromCache bool
	replaced  map[int64]bool
	inserted  []cacheEntry
}

// knownLog is a defer log's stamp in knownFiles; a Size of ambiguousLog marks an ambiguous
// key.
type knownLog = mqsql.LogStamp

const ambiguousLog = -2

// keyOf hashes a path or queue ID for knownFiles; tests replace it to force collisions. The
// hash is the same in every process (64-bit FNV-1a), since the stamp cache keeps the keys of
// the paths.
var keyOf = fnv1a

func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (k *knownFiles) empty() bool { return len(k.stamps) == 0 }

// known loads what the index knows and, unless it is empty (then every file is read anyway,
// with its log) or the walk gives each file's log stamp (logsInEntries), the defer logs'
// stamps: both at once, since each is a long wait on a different thing.
func (ix *Index) known(ctx context.Context, sp mqsql.Spool, logsInEntries bool) (*knownFiles, error) {
	var rows int
	if err := ix.db.QueryRowContext(ctx, "SELECT count(*) FROM queue_files").Scan(&rows); err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	k := &knownFiles{stamps: make([]stamp, 0, rows), files: make(map[uint64]int32, rows), logsInEntries: logsInEntries}
	if rows == 0 {
		return k, nil
	}
	if logsInEntries {
		return k, k.load(ctx, ix, rows)
	}
	var logErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		logErr = k.loadLogs(ctx, sp, rows)
	}()
	err := k.load(ctx, ix, rows)
	<-done
	if logErr != nil {
		return nil, errors.Join(err, fmt.Errorf("list defer logs: %w", logErr))
	}
	return k, err
}

// load reads the stamps of the index's rows, from the stamp cache if it is there.
func (k *knownFiles) load(ctx context.Context, ix *Index, rows int) error {
	var err error
	if k.fromCache, err = k.loadCached(ctx, ix, rows); err == nil && !k.fromCache {
		err = k.loadFiles(ctx, ix)
	}
	return err
}

// loadFiles reads the stamps of the index's files.
func (k *knownFiles) loadFiles(ctx context.Context, ix *Index) error {
	const q = "SELECT id, path, inode, file_size, mode, mtime_ns, log_size, log_mtime_ns FROM queue_files"
	err := ix.eachDriverRow(ctx, q, 8, func(vals []driver.Value) error {
		s, path, err := stampOf(vals)
		if err == nil {
			k.add(path, s)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	return nil
}

// eachDriverRow runs query, whose rows have columns values, on the driver directly and calls
// fn with each row, whose values are valid only during the call: for a million rows,
// database/sql's conversions would cost as much again as reading them.
func (ix *Index) eachDriverRow(ctx context.Context, query string, columns int, fn func([]driver.Value) error) error {
	conn, err := ix.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the SQLite driver cannot query")
		}
		rows, err := q.QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]driver.Value, columns)
		for {
			if err := rows.Next(vals); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
	})
}

// stampOf takes a stamp from the values of a row of loadFiles's query: id, path, inode,
// file_size, mode, mtime_ns, log_size, log_mtime_ns.
func stampOf(vals []driver.Value) (stamp, string, error) {
	var s stamp
	path, ok := vals[1].(string)
	for _, c := range [...]struct {
		col int
		dst *int64
	}{{0, &s.id}, {2, &s.inode}, {3, &s.size}, {4, &s.mode}, {5, &s.mtimeNs}, {6, &s.logSize}, {7, &s.logMtimeNs}} {
		v, isInt := vals[c.col].(int64)
		ok = ok && isInt
		*c.dst = v
	}
	if !ok {
		return s, "", fmt.Errorf("unexpected column types in %v", vals)
	}
	return s, path, nil
}

// add records the stamp of the file at path, marking both rows ambiguous should another
// row's path have the same hash.
func (k *knownFiles) add(path string, s stamp) { k.addKey(keyOf(path), s) }

// addKey is add for a path whose key is known.
func (k *knownFiles) addKey(key uint64, s stamp) {
	if i, dup := k.files[key]; dup {
		if old := &k.stamps[i]; !old.ambiguous {
			k.ambiguous = append(k.ambiguous, old.id)
			*old = stamp{ambiguous: true}
		}
		k.ambiguous = append(k.ambiguous, s.id)
		return
	}
	k.files[key] = int32(len(k.stamps))
	k.stamps = append(k.stamps, s)
}

// loadLogs lists the defer logs; hint is about how many there are.
func (k *knownFiles) loadLogs(ctx context.Context, sp mqsql.Spool, hint int) error {
	k.logs = make(map[uint64]knownLog, hint)
	var mu sync.Mutex
	return sp.EachDelayLogStamp(ctx, func(id string, st mqsql.LogStamp) {
		key := keyOf(id)
		mu.Lock()
		defer mu.Unlock()
		if _, dup := k.logs[key]; dup {
			k.logs[key] = knownLog{Size: ambiguousLog}
			return
		}
		k.logs[key] = st
	})
}

// want says whether a file the walk found must be read, and which row it replaces, and marks
// its row seen. Walkers call it several at once: it only reads knownFiles, but for seen.
func (k *knownFiles) want(e mqsql.Entry) (bool, int64) {
	i, ok := k.files[keyOf(e.File.Path)]
	if !ok {
		return true, 0
	}
	old := &k.stamps[i]
	atomic.StoreUint32(&old.seen, 1)
	if old.ambiguous {
		return true, 0 // its rows were dropped up front
	}
	if log := k.logOf(e); log.Size != ambiguousLog && old.matches(e, log) {
		return false, 0
	}
	return true, old.id
}

// logOf is the stamp of e's log: the walk's, or the listing's.
func (k *knownFiles) logOf(e mqsql.Entry) knownLog {
	if k.logsInEntries {
		return e.Log
	}
	return k.logs[keyOf(e.QueueID)]
}

// unseen lists the ids of the rows whose file the walk did not find, leaving out the rows
// whose key is ambiguous (whether the walk found their files is not known; see ambiguous).
func (k *knownFiles) unseen() []int64 {
	var ids []int64
	for _, old := range k.stamps {
		if old.seen == 0 && !old.ambiguous {
			ids = append(ids, old.id)
		}
	}
	return ids
}

// removeUnseen drops the rows of files the walk did not find.
func (k *knownFiles) removeUnseen(ctx context.Context, w *writer) (int, error) {
	ids := k.unseen()
	for n, id := range ids {
		if err := w.remove(ctx, id); err != nil {
			return n, err
		}
	}
	return len(ids), nil
}
