package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mqsql/mqsql/internal/safefile"
	"golang.org/x/sys/unix"
)

// ErrCacheBusy reports that another process is using the cache index: the caller builds an
// index of its own for this run instead of waiting for it.
var ErrCacheBusy = errors.New("index: the cache is in use by another mqsql")

// cacheLockSuffix is appended to the cache file's name to get the file whose lock says which
// process uses the cache, and which records the boot the cache was last written in.
const cacheLockSuffix = ".lock"

// bootIDFile names the current boot: a cache last written in another boot may have lost
// writes that were never fsynced, and is rebuilt.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// OpenCache opens the index kept between runs in dir/name, for the default invocation without
// --db: the next run then reads only the queue files that changed, as with --db, instead of
// the whole queue. It is the same index as any other, made current by Sync, so its answers are
// those of a fresh one; what it saves is the cold load.
//
// The cache is private to one process at a time: it holds an open-file-description lock on
// name.lock until Close, and fails with ErrCacheBusy, without waiting, when another process
// holds it. Like a temporary index it is never fsynced (it can always be rebuilt from the
// spool): a process that dies leaves SQLite's journal or WAL to roll it back, and a cache last
// written before the machine restarted, whose unsynced pages may be lost, is removed and
// rebuilt. dir is created 0700 when missing (see safefile.MkdirPrivate): it must be the
// caller's, not a link, in a parent only the caller or root may change, and it is checked
// before the lock file is opened or a file is removed in it, never after.
func OpenCache(ctx context.Context, dir, name string, opts ...Option) (*Index, error) {
	d, err := safefile.MkdirPrivate(dir)
	if err != nil {
		return nil, fmt.Errorf("cache index: %w", err)
	}
	defer d.Close()
	path := filepath.Join(d.Path(), name)
	lock, err := lockCache(d, name+cacheLockSuffix)
	if err != nil {
		return nil, err
	}
	if err := forgetOtherBoot(lock, d, name); err != nil {
		lock.Close()
		return nil, err
	}
	private := func(ix *Index) { ix.private, ix.release = true, lock.Close }
	ix, err := Open(ctx, path, append(opts, private)...)
	var foreign *ForeignError
	if err != nil && !errors.As(err, &foreign) {
		// A cache SQLite cannot use (damaged, or cut short by a full disk) is only a cache.
		if rerr := removeIndexFiles(d, name); rerr == nil {
			ix, err = Open(ctx, path, append(opts, private)...)
		}
	}
	if err == nil {
		err = ix.forgetEvents(ctx)
	}
	if err != nil {
		if ix != nil {
			ix.Close() // releases the lock
		} else {
			lock.Close()
		}
		return nil, err
	}
	return ix, nil
}

// forgetEvents empties the tables that only a watcher fills (events, and the intents that
// explain them), so that a run on the cache sees what a run on a fresh index would: the rows
// a REPL recorded in an earlier run are not this run's.
func (ix *Index) forgetEvents(ctx context.Context) error {
	for _, table := range []string{"events", "intents"} {
		if _, err := ix.db.ExecContext(ctx, "DELETE FROM "+table); err != nil {
			return fmt.Errorf("cache index: empty %s: %w", table, err)
		}
	}
	return nil
}

// lockCache opens and locks the cache's lock file name in d without waiting: never through a
// link, and a FIFO or anything but a regular file of the caller's is refused without blocking.
func lockCache(d *safefile.Dir, name string) (*os.File, error) {
	path := d.Join(name)
	f, err := d.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache index: %w", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		f.Close()
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
			return nil, ErrCacheBusy
		}
		return nil, fmt.Errorf("cache index: lock %s: %w", path, err)
	}
	return f, nil
}

// forgetOtherBoot removes the cache name in d unless lock records the current boot, and then
// records it: from now on this boot writes the cache.
func forgetOtherBoot(lock *os.File, d *safefile.Dir, name string) error {
	boot, err := os.ReadFile(bootIDFile)
	if err != nil {
		return fmt.Errorf("cache index: %w", err)
	}
	boot = bytes.TrimSpace(boot)
	seen, err := io.ReadAll(lock)
	if err != nil {
		return fmt.Errorf("cache index: read %s: %w", lock.Name(), err)
	}
	if bytes.Equal(bytes.TrimSpace(seen), boot) {
		return nil
	}
	if err := removeIndexFiles(d, name); err != nil {
		return err
	}
	if err := lock.Truncate(0); err != nil {
		return fmt.Errorf("cache index: %w", err)
	}
	if _, err := lock.WriteAt(append(boot, '\n'), 0); err != nil {
		return fmt.Errorf("cache index: %w", err)
	}
	return nil
}

// removeIndexFiles removes the index file name of d and the files SQLite keeps beside it.
func removeIndexFiles(d *safefile.Dir, name string) error {
	for _, suffix := range indexFiles {
		if err := d.Remove(name + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cache index: %w", err)
		}
	}
	return nil
}
