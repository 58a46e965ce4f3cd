package index

import (
	"context"
	"database/sql"
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

// Stats describes one Update, for progress displays, logs and the watcher's state.
type Stats struct {
	Files     int // message files seen in the spool
	Read      int // of those, read because they were new or changed (a load)
	Unchanged int // of those, unchanged (a load)
	Removed   int // rows dropped because their file is gone (a load)
	Damaged   int // files read with an error (a load)
	Dirty     int // queue IDs whose files or rows differed, and were refreshed (with events)
	Changes   int // events rows written (with events)
	// Unreadable is how many places (directories or files) the pass could not see for a
	// reason other than their absence; the rows at or below them were kept as they were.
	Unreadable int
	Elapsed    time.Duration
}

// ReconcileStats is what Reconcile returned before Update served every pass.
type ReconcileStats = Stats

// stamp is what a load remembers of a row to tell whether its file changed: the row's id and
// mqsql.Stamp.
type stamp struct {
	id int64
	st mqsql.Stamp
	// seen is set (atomically: walkers whose paths share a key may set it at once) when
	// the walk finds the file still there; ambiguous marks a path whose hash another row's
	// path shares (see knownFiles).
	seen      uint32
	ambiguous bool
}

// syncAll is Update over the whole spool without events (Sync). It makes the index equal to
// the spool: it reads the files that are new or whose inode,
// size, mode, mtime or defer log changed, and drops rows whose files are gone. On an empty
// index that is a full load. Files are read in parallel; all writes go through one
// transaction, so readers of a file index see either the old state or the new one.
//
// It fails closed: a place the walk or a reader could not see for a reason other than its
// absence (an *mqsql.UnreadableError: too many open files, an I/O error, permission) keeps
// every row at or below it as it was. Sync then commits the rest and returns those errors
// (errors.Join), with Stats.Unreadable counting them, so that its caller warns and tries
// again.
func (ix *Index) syncAll(ctx context.Context, sp mqsql.Spool) (Stats, error) {
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
	if err := declareQueues(ctx, tx, sp.Meaning()); err != nil {
		return st, err
	}
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
	unseen, err := splitUnreadable(err)
	if err != nil {
		return st, err
	}
	st.Unreadable = len(mqsql.UnreadablePlaces(unseen))
	if st.Removed, err = known.removeUnseen(ctx, w, mqsql.UnreadablePlaces(unseen)); err != nil {
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
	return st, unseen
}

// splitUnreadable separates what a pass could not see (every error of err an
// *mqsql.UnreadableError) from a failure of the pass.
func splitUnreadable(err error) (unseen, failed error) {
	if mqsql.OnlyUnreadable(err) {
		return err, nil
	}
	return nil, err
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

// matches reports whether the row still describes e, whose log has stamp log (unless the walk
// took it).
func (s stamp) matches(e mqsql.Entry, log mqsql.LogStamp) bool {
	return unchanged(s.st, diskStamp(e, log), e.NoLog)
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
	var unread mqsql.Unreadables
	fail := func(err error) { once.Do(func() { readErr = err; cancel() }) }
	for range readers() {
		wg.Go(func() { readBatches(ctx, sp, budget, batches, results, &skipped, &unread, fail) })
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
	return int(skipped.Load()), errors.Join(storeErr, readErr, ignoreCanceled(walkErr, storeErr != nil || readErr != nil), unread.Err())
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
	if (err == nil || mqsql.OnlyUnreadable(err)) && len(batch) > 0 {
		// A walk that could not see some places still listed the rest.
		return errors.Join(err, send())
	}
	return err
}

// readBatches reads the files of each batch within budget and sends the messages on; files
// gone since the walk are dropped, files still being written dropped and counted in skipped,
// files that could not be read (an *mqsql.UnreadableError) left as their rows are and noted
// in unread, and any other error stops the load through fail. A message that holds the budget's
// allowance for big messages goes to the writer at once, with the messages read before it,
// since no other big message can be read until it is stored.
func readBatches(ctx context.Context, sp mqsql.Spool, budget *mqsql.RecipientBudget, in <-chan []work, out chan<- []result, skipped *atomic.Int64, unread *mqsql.Unreadables, fail func(error)) {
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
			if ue := (*mqsql.UnreadableError)(nil); errors.As(err, &ue) {
				unread.Add(w.entry.File.Path, err)
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

// knownLog is a log's stamp in knownFiles, or a mark that its key is ambiguous.
type knownLog struct {
	st        mqsql.LogStamp
	ambiguous bool
}

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
	const q = "SELECT id, path, inode, file_size, mode, mtime_ns, log_size, log_mtime_ns, locked FROM queue_files"
	err := ix.eachDriverRow(ctx, q, 9, func(vals []driver.Value) error {
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
// file_size, mode, mtime_ns, log_size, log_mtime_ns, locked.
func stampOf(vals []driver.Value) (stamp, string, error) {
	path, ok := vals[1].(string)
	var n [9]int64
	for _, col := range [...]int{0, 2, 3, 4, 5, 6, 7, 8} {
		v, isInt := vals[col].(int64)
		ok = ok && isInt
		n[col] = v
	}
	if !ok {
		return stamp{}, "", fmt.Errorf("unexpected column types in %v", vals)
	}
	return stamp{id: n[0], st: mqsql.Stamp{Inode: uint64(n[2]), Size: n[3], Mode: uint32(n[4]), ModTimeNanos: n[5],
		Log: mqsql.LogStamp{Size: n[6], ModTimeNanos: n[7]}, Locked: n[8] != 0}}, path, nil
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
			k.logs[key] = knownLog{ambiguous: true}
			return
		}
		k.logs[key] = knownLog{st: st}
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
	if log, ok := k.logOf(e); ok && old.matches(e, log) {
		return false, 0
	}
	return true, old.id
}

// logOf is the stamp of e's log from the listing (mqsql.NoLog when it lists none), unless the
// walk took it; false when the listing's key for it is ambiguous.
func (k *knownFiles) logOf(e mqsql.Entry) (mqsql.LogStamp, bool) {
	if k.logsInEntries || e.LogTaken || e.NoLog {
		return e.File.Log, true
	}
	l, listed := k.logs[keyOf(e.QueueID)]
	if !listed {
		return mqsql.NoLog, true
	}
	return l.st, !l.ambiguous
}

// unseen lists the ids of the rows whose file the walk did not find, leaving out the rows
// whose key is ambiguous (whether the walk found their files is not known; see ambiguous).
func (k *knownFiles) unseen() []int64 {
	var ids []int64
	for _, i := range k.unseenAt() {
		ids = append(ids, k.stamps[i].id)
	}
	return ids
}

// unseenAt is unseen as indexes into stamps.
func (k *knownFiles) unseenAt() []int {
	var out []int
	for i, old := range k.stamps {
		if old.seen == 0 && !old.ambiguous {
			out = append(out, i)
		}
	}
	return out
}

// removeUnseen drops the rows of files the walk did not find, except those at or below a
// place it could not see (unreadable), which it marks seen: they stay as they were, in the
// index and in its stamp cache.
func (k *knownFiles) removeUnseen(ctx context.Context, w *writer, unreadable []string) (int, error) {
	n := 0
	for _, i := range k.unseenAt() {
		old := &k.stamps[i]
		if len(unreadable) > 0 {
			path, err := rowPath(ctx, w.tx, old.id)
			if err != nil {
				return n, err
			}
			if mqsql.Covers(unreadable, path) {
				old.seen = 1
				continue
			}
		}
		if err := w.remove(ctx, old.id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// rowPath is the path of the queue_files row id.
func rowPath(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int64) (string, error) {
	var path string
	if err := q.QueryRowContext(ctx, `SELECT path FROM queue_files WHERE id = ?`, id).Scan(&path); err != nil {
		return "", fmt.Errorf("read index: %w", err)
	}
	return path, nil
}
