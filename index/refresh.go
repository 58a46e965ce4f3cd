package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mqsql/mqsql"
)

// dirtyID is a queue ID that may have changed: the paths events named for it (relative to the
// spool) and when it was first noticed, which becomes the time of its events row.
type dirtyID struct {
	hints []string
	since time.Time
	// anywhere: the ID may be somewhere no event named (it was renamed, or a full pass found it
	// changed), so when it is not where events say, every queue must be looked at.
	anywhere bool
}

// indexedFile is one queue_files row, as a refresh needs it.
type indexedFile struct {
	rowID   int64
	queueID string
	queue   mqsql.Queue
	path    string
	stamp   mqsql.Stamp
	sender  string
	size    int64
	errText sql.NullString
}

// onDisk is a file that is a message right now: where it is and, once read, its content.
type onDisk struct {
	entry mqsql.Entry
	msg   *mqsql.Message
	gone  bool // it was not there any more when it was read
	// unread is why it could not be read (an *mqsql.UnreadableError), nil when it was.
	unread error
}

// refreshChunk bounds how many queue IDs one write transaction covers, so that readers of an
// in-memory index, which wait for the writer, never wait long.
const refreshChunk = 1000

// refresh re-reads the given queue IDs from the spool and makes their rows match: each ID is
// looked for where events and the index say it is, and when it is in none of those places at
// its computed path in every queue (findFiles), and looked for again when its file moved
// before it was read; rows of files that are gone are dropped, new and changed files are read
// and stored. Each chunk is one transaction that also records the events rows. It returns the
// changes recorded.
//
// It fails closed: a queue ID whose places could not all be looked at, or whose file could
// not be read, for a reason other than absence (an *mqsql.UnreadableError) keeps its rows as
// they are and gets no events row; refresh returns those errors (errors.Join) after the
// others are stored, so that the caller warns and looks again later.
func (ix *Index) refresh(ctx context.Context, sp mqsql.Spool, batch map[string]*dirtyID) ([]change, error) {
	ids := make([]string, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var all []change
	var unseen []error
	for len(ids) > 0 {
		n := min(len(ids), refreshChunk)
		changes, err := ix.refreshChunk(ctx, sp, ids[:n], batch)
		all = append(all, changes...)
		if err != nil && !mqsql.OnlyUnreadable(err) {
			return all, err
		}
		unseen = append(unseen, err)
		ids = ids[n:]
	}
	return all, errors.Join(unseen...)
}

// refreshChunk is refresh for at most refreshChunk IDs. The spool is read before the write
// transaction begins, so the transaction only writes.
func (ix *Index) refreshChunk(ctx context.Context, sp mqsql.Spool, ids []string, batch map[string]*dirtyID) ([]change, error) {
	before, err := indexedFiles(ctx, ix.db, ids)
	if err != nil {
		return nil, err
	}
	disk := make(map[string][]*onDisk, len(ids))
	logs := make(map[string]mqsql.LogStamp, len(ids))
	unknown := map[string]error{}
	pending := ids
	for look := 1; len(pending) > 0; look++ {
		toRead := lookFor(sp, pending, batch, before, disk, logs, unknown, look > 1)
		if err := readAll(sp, toRead); err != nil {
			return nil, err
		}
		if look == maxLooks {
			break
		}
		pending = movedAway(pending, disk)
	}
	noteUnread(disk, unknown)
	known := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return unknown[id] != nil })
	changes, err := ix.store(ctx, sp, known, batch, disk, logs)
	if err != nil {
		return changes, err
	}
	var unseen []error
	for _, id := range ids {
		unseen = append(unseen, unknown[id])
	}
	return changes, errors.Join(unseen...)
}

// noteUnread adds to unknown the IDs with a file that could not be read.
func noteUnread(disk map[string][]*onDisk, unknown map[string]error) {
	for id, files := range disk {
		for _, f := range files {
			if f.unread != nil && unknown[id] == nil {
				unknown[id] = f.unread
			}
		}
	}
}

// maxLooks bounds how often a refresh looks again for a queue ID whose file moved between
// the lstat that found it and the read.
const maxLooks = 3

// lookFor finds the files of ids (in parallel; again says the last look found a file gone by
// the time it was read, so every queue is looked at) into disk and logs, and returns those
// that must be read: new or changed files, not mere renames of an indexed file. An ID one of
// whose places could not be looked at goes in unknown instead, with why.
func lookFor(sp mqsql.Spool, ids []string, batch map[string]*dirtyID, before map[string][]indexedFile,
	disk map[string][]*onDisk, logs map[string]mqsql.LogStamp, unknown map[string]error, again bool) []*onDisk {
	found := make([][]*onDisk, len(ids))
	foundLogs := make([]mqsql.LogStamp, len(ids))
	errs := make([]error, len(ids))
	parallel(len(ids), func(i int) error {
		id := ids[i]
		d := batch[id]
		if again {
			d = &dirtyID{hints: d.hints, since: d.since, anywhere: true}
		}
		found[i], errs[i] = findFiles(sp, id, d, before[id])
		if len(found[i]) > 0 {
			foundLogs[i] = statLog(sp, id)
		}
		return nil
	})
	var toRead []*onDisk
	for i, id := range ids {
		if errs[i] != nil {
			unknown[id], disk[id] = errs[i], nil
			continue
		}
		disk[id], logs[id] = found[i], foundLogs[i]
		for _, f := range found[i] {
			old := byPath(before[id], f.entry.File.Path)
			if old != nil && old.same(f.entry, logs[id]) {
				continue
			}
			if movable(before[id], nil, f.entry, logs[id]) == nil { // a rename needs no reading
				toRead = append(toRead, f)
			}
		}
	}
	return toRead
}

// movedAway returns the ids with a file that was gone by the time it was read: qmgr moved it
// (from active into deferred after a delivery attempt) or Postfix removed it.
func movedAway(ids []string, disk map[string][]*onDisk) []string {
	var out []string
	for _, id := range ids {
		if slices.ContainsFunc(disk[id], func(f *onDisk) bool { return f.gone }) {
			out = append(out, id)
		}
	}
	return out
}

// querier is what indexedFiles needs of a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// indexedFiles loads the rows of the given queue IDs, by ID.
func indexedFiles(ctx context.Context, q querier, ids []string) (map[string][]indexedFile, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("read index rows: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, queue_id, queue, path, inode, file_size, mode, mtime_ns,
		log_size, log_mtime_ns, locked, sender, size, error FROM queue_files
		WHERE queue_id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("read index rows: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]indexedFile, len(ids))
	for rows.Next() {
		var r indexedFile
		st := &r.stamp
		if err := rows.Scan(&r.rowID, &r.queueID, &r.queue, &r.path, &st.Inode, &st.Size, &st.Mode,
			&st.ModTimeNanos, &st.Log.Size, &st.Log.ModTimeNanos, &st.Locked, &r.sender, &r.size, &r.errText); err != nil {
			return nil, fmt.Errorf("read index rows: %w", err)
		}
		out[r.queueID] = append(out[r.queueID], r)
	}
	return out, rows.Err()
}

// findFiles looks for every file that is queue ID id right now. It never opens anything: it
// only lstats, so a queue ID that changed nothing costs a few system calls. It looks where
// events and the index say the ID is. When it is in none of those places it also looks at the
// ID's computed path in every queue: an ID may sit where no event has named it yet (a rename
// into a hash directory created a moment ago, whose event comes after a stale one for the old
// place, or a move from active into deferred whose event is in the next batch). Before an ID
// is taken for gone (it was indexed, or events saw it in active, deferred or hold) it looks
// everywhere twice, because one pass misses a message that moves from a queue not looked at
// yet into one already looked at. Only an ID seen in incoming or maildrop alone, maybe a file
// cleanup is still writing, is looked for only where events say unless it was renamed:
// lookups of names that do not exist are what waits longest in directories Postfix is busy
// in, and whatever it becomes will have events.
//
// A place it could not look at (an *mqsql.UnreadableError) makes the answer unknown: it
// returns that error, and the ID's rows stay as they are.
func findFiles(sp mqsql.Spool, id string, d *dirtyID, rows []indexedFile) ([]*onDisk, error) {
	var files []*onDisk
	var unseen error
	seen := map[string]bool{}
	look := func(cs []mqsql.Place) {
		for _, c := range cs {
			if seen[c.Path] {
				continue
			}
			seen[c.Path] = true
			e, ok, err := sp.Stat(c.Queue, id, c.Path)
			if err != nil && unseen == nil {
				unseen = err
			}
			if ok {
				files = append(files, &onDisk{entry: e})
			}
		}
	}
	near := known(sp, d.hints, rows)
	look(near)
	if unseen != nil {
		return nil, unseen
	}
	if len(files) > 0 {
		return files, nil
	}
	// Not finding a message that was indexed, or that events saw in a queue only complete
	// mail reaches, records that it left: that needs looking everywhere, twice.
	_, wasComplete := lastCompleteQueue(sp, d.hints)
	mustBeSure := len(rows) > 0 || wasComplete
	if !mustBeSure && !d.anywhere && len(near) > 0 {
		return nil, nil
	}
	everywhere := sp.Locations(id)
	look(everywhere)
	if len(files) == 0 && mustBeSure && unseen == nil {
		// A release from hold into deferred or a retry into active can slip between two
		// lstats; renames are atomic, so a message still queued is found the second time.
		clear(seen)
		look(near)
		look(everywhere)
	}
	if unseen != nil {
		return nil, unseen
	}
	return files, nil
}

// known lists the paths events named for an ID and the paths the index has for it (a
// misplaced file is found by a walk, not by computing).
func known(l mqsql.Layout, hints []string, rows []indexedFile) []mqsql.Place {
	var out []mqsql.Place
	for _, h := range hints {
		if q, ok := l.QueueOfPath(h); ok {
			out = append(out, mqsql.Place{Queue: q, Path: h})
		}
	}
	for _, r := range rows {
		out = append(out, mqsql.Place{Queue: r.queue, Path: r.path})
	}
	return out
}

// statLog returns the stamp of id's log, mqsql.NoLog when it has none.
func statLog(sp mqsql.Spool, id string) mqsql.LogStamp {
	st, ok := sp.StatLog(id)
	if !ok {
		return mqsql.NoLog
	}
	return st
}

// ioWorkers is how many lstats and reads a refresh runs at once. They mostly wait, not
// compute: during a storm Postfix holds the queue directories' locks and the file system
// journal for its own creates, renames and fsyncs, and a lookup in such a directory waits its
// turn. Overlapping the waits keeps one slow directory from delaying the whole batch.
const ioWorkers = 8

// readAll reads the files; a file that is gone keeps msg nil.
func readAll(sp mqsql.Spool, files []*onDisk) error {
	return parallel(len(files), func(i int) error { return readOne(sp, files[i]) })
}

// parallel calls fn for 0..n-1 on up to ioWorkers goroutines and joins the errors.
func parallel(n int, fn func(i int) error) error {
	if n == 1 {
		return fn(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range min(ioWorkers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// readOne reads one file into f.msg. A file that vanished or was replaced since it was
// stat'ed is left unread and marked gone; one that could not be read is left unread with why
// in f.unread.
func readOne(sp mqsql.Spool, f *onDisk) error {
	m, err := sp.ReadWithin(f.entry, nil)
	if errors.Is(err, mqsql.ErrGone) {
		f.gone = true
		return nil
	}
	if ue := (*mqsql.UnreadableError)(nil); errors.As(err, &ue) {
		f.unread = err
		return nil
	}
	if err != nil {
		return err
	}
	f.msg = m
	return nil
}
