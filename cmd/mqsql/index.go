package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"golang.org/x/sys/unix"
)

// openIndex opens the index and brings it up to date: with --db and a live watcher owning
// the file (mqsql watch, or a REPL), the index is current already and is read as it is, and
// the watcher is returned (nil otherwise); without one this process reconciles it with the
// spool.
func (c *QueryCommand) openIndex(ctx context.Context, sp mqsql.QueueDir, warnings *cappedWarnings) (*index.Index, *index.OwnerInfo, error) {
	ix, err := c.openIndexFile(ctx, sp.Dir())
	if err != nil {
		return nil, nil, indexAccessError(c.db, err)
	}
	if c.db != "" {
		info, live, err := index.WaitForOwner(ctx, c.db, func(info index.OwnerInfo) {
			fmt.Fprintf(c.stderr, "mqsql: waiting for mqsql watch (pid %d) to finish loading %s\n", info.PID, c.db)
		})
		if err != nil {
			ix.Close()
			return nil, nil, err
		}
		if live {
			return ix, &info, nil
		}
	}
	if err := syncIndex(ctx, ix, sp, warnings, c.stderr); err != nil {
		ix.Close()
		return nil, nil, err
	}
	c.catchUpLog = func(ctx context.Context) { readHistory(ctx, c.history, c.spool.driver, ix, sp, c.stderr) }
	return ix, nil, nil
}

// openAnswering opens what answers the statements of this run: with --no-cache, for read-only
// statements given as the argument that use no table only an index keeps (events), a direct
// database that reads the spool as the statement asks (no index file of any kind); otherwise
// the index (openIndex).
func (c *QueryCommand) openAnswering(ctx context.Context, sp mqsql.QueueDir, warnings *cappedWarnings) (*index.Index, *index.OwnerInfo, error) {
	if c.noCache && c.db == "" && c.sql != "" && index.DirectReadable(c.sql) {
		ix, err := index.OpenDirect(ctx, sp, index.WithClock(clock))
		return ix, nil, err
	}
	return c.openIndex(ctx, sp, warnings)
}

// openIndexFile opens --db FILE, or without it the cache index of this queue (see
// openCache; when a watcher keeps it, followCache), or with --no-cache, or when the cache
// cannot be used, a temporary index for this run. The cache and the temporary index are files
// that are never fsynced, whose pages the kernel caches, so that the default invocation stays
// small in memory on a big queue.
func (c *QueryCommand) openIndexFile(ctx context.Context, spoolDir string) (*index.Index, error) {
	if c.db != "" {
		return index.Open(ctx, c.db, index.WithClock(clock))
	}
	if !c.noCache {
		ix, err := openCache(ctx, c.spool.driver.Name(), spoolDir)
		if err == nil {
			return ix, nil
		}
		if !errors.Is(err, index.ErrCacheBusy) {
			fmt.Fprintf(c.stderr, "mqsql: warning: not using the cache index (%v); indexing the queue afresh for this run\n", err)
		} else if ix, path, err := followCache(ctx, c.spool.driver.Name(), spoolDir, c.stderr); ix != nil || err != nil {
			c.db, c.followsCache = path, ix != nil
			return ix, err
		}
	}
	return index.OpenScratch(ctx, index.WithClock(clock))
}

// indexAccessError explains a failure to open the --db file when this user may not use it:
// SQLite only says "unable to open database file (14)". Other errors are returned as they are.
func indexAccessError(db string, err error) error {
	if db == "" {
		return err
	}
	dir := filepath.Dir(db)
	denied := ""
	switch aerr := unix.Access(db, unix.R_OK|unix.W_OK); {
	case errors.Is(aerr, unix.EACCES):
		denied = db
	case aerr != nil && !errors.Is(aerr, unix.ENOENT):
		return err
	}
	if denied == "" && errors.Is(unix.Access(dir, unix.W_OK|unix.X_OK), unix.EACCES) {
		denied = dir
	}
	if denied == "" {
		return err
	}
	return &indexPermissionError{DB: db, Denied: denied, Err: err}
}

// indexPermissionError reports a --db file this user may not read and write.
type indexPermissionError struct {
	DB     string // the index file
	Denied string // the file or directory access was refused to
	Err    error
}

func (e *indexPermissionError) Error() string {
	return fmt.Sprintf("--db %s: permission denied on %s: the index needs read and write access to the file "+
		"and write access to its directory %s (for its -wal, -shm and %s files); run mqsql as the user "+
		"that keeps this index (root, for the Postfix queue)", e.DB, e.Denied, filepath.Dir(e.DB), index.OwnerSuffix)
}

func (e *indexPermissionError) Unwrap() error { return fs.ErrPermission }

// syncIndex reads the spool into the index, printing the spool's warnings (a bounded number).
func syncIndex(ctx context.Context, ix *index.Index, sp mqsql.Spool, warnings *cappedWarnings, stderr io.Writer) error {
	defer warnings.flush()
	defer showProgress(ix, stderr)()
	if _, err := ix.Sync(ctx, sp); err != nil {
		return fmt.Errorf("index %s: %w", sp.Dir(), err)
	}
	return nil
}

// clock is what mqsql takes as the present (nil: the system clock); tests stop it.
var clock mqsql.Clock

// maxWarnings bounds how many spool warnings are printed, so a badly damaged spool does not
// bury the query's output.
const maxWarnings = 20
