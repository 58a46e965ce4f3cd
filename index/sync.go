package index

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool"
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
}

// Sync makes the index equal to the spool: it reads the files that are new or whose inode,
// size, mode, mtime or defer log changed, and drops rows whose files are gone. On an empty
// index that is a full load. Files are read in parallel; all writes go through one
// transaction, so readers of a file index see either the old state or the new one.
func (ix *Index) Sync(ctx context.Context, sp *spool.Spool) (Stats, error) {
	start := time.Now()
	var st Stats
	known, err := ix.stamps(ctx)
	if err != nil {
		return st, err
	}
	logs, err := sp.LogStamps(ctx, "defer")
	if err != nil {
		return st, fmt.Errorf("list defer logs: %w", err)
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("begin index update: %w", err)
	}
	defer tx.Rollback()
	w, err := newWriter(ctx, tx)
	if err != nil {
		return st, err
	}
	defer w.close()

	seen := make(map[string]bool, len(known))
	err = ix.load(ctx, sp, func(e spool.Entry) bool {
		st.Files++
		seen[e.File.Path] = true
		old, ok := known[e.File.Path]
		if ok && old.matches(e, logs[e.QueueID]) {
			st.Unchanged++
			return false
		}
		return true
	}, func(m *mqsql.Message) error {
		st.Read++
		if ix.OnProgress != nil && st.Read%progressEvery == 0 {
			st.Elapsed = time.Since(start)
			ix.OnProgress(st)
		}
		if m.Error != "" {
			st.Damaged++
		}
		if old, ok := known[m.File.Path]; ok {
			if err := w.remove(ctx, old.id); err != nil {
				return err
			}
		}
		return w.insert(ctx, m)
	})
	if err != nil {
		return st, err
	}
	for path, old := range known {
		if !seen[path] {
			if err := w.remove(ctx, old.id); err != nil {
				return st, err
			}
			st.Removed++
		}
	}
	_, indexes := schemaParts()
	if _, err := tx.ExecContext(ctx, indexes); err != nil {
		return st, fmt.Errorf("create indexes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("commit index update: %w", err)
	}
	st.Elapsed = time.Since(start)
	if ix.OnProgress != nil {
		ix.OnProgress(st)
	}
	return st, nil
}

// progressEvery is how many files Sync reads between progress reports.
const progressEvery = 5000

func (s stamp) matches(e spool.Entry, log spool.LogStamp) bool {
	if s.inode != int64(e.File.Inode) || s.size != e.File.Size || s.mode != int64(e.File.Mode) || s.mtimeNs != e.File.ModTimeNanos {
		return false
	}
	if log == (spool.LogStamp{}) {
		return s.logSize == -1
	}
	return s.logSize == log.Size && s.logMtimeNs == log.ModTimeNanos
}

// stamps loads what the index knows about each file.
func (ix *Index) stamps(ctx context.Context) (map[string]stamp, error) {
	rows, err := ix.db.QueryContext(ctx, "SELECT id, path, inode, file_size, mode, mtime_ns, log_size, log_mtime_ns FROM queue_files")
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer rows.Close()
	known := map[string]stamp{}
	for rows.Next() {
		var s stamp
		var path string
		if err := rows.Scan(&s.id, &path, &s.inode, &s.size, &s.mode, &s.mtimeNs, &s.logSize, &s.logMtimeNs); err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		known[path] = s
	}
	return known, rows.Err()
}

// load walks the spool, reads the entries want selects on all cores, and hands each message
// to store, one at a time, in the calling goroutine.
func (ix *Index) load(ctx context.Context, sp *spool.Spool, want func(spool.Entry) bool, store func(*mqsql.Message) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	entries := make(chan spool.Entry, 256)
	results := make(chan *mqsql.Message, 256)
	var walkErr error
	go func() {
		defer close(entries)
		walkErr = sp.Walk(ctx, func(e spool.Entry) error {
			if !want(e) {
				return nil
			}
			select {
			case entries <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var wg sync.WaitGroup
	var readErr error
	var once sync.Once
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range entries {
				m, err := sp.Read(e)
				if errors.Is(err, spool.ErrGone) {
					continue
				}
				if err != nil {
					once.Do(func() { readErr = err; cancel() })
					continue
				}
				select {
				case results <- m:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	var storeErr error
	for m := range results {
		if storeErr == nil {
			if storeErr = store(m); storeErr != nil {
				cancel()
			}
		}
	}
	return errors.Join(storeErr, readErr, ignoreCanceled(walkErr, storeErr != nil || readErr != nil))
}

func ignoreCanceled(err error, canceledByUs bool) error {
	if canceledByUs && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
