package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// OwnerSuffix is appended to an index file's name to get the file a live watcher locks.
// While the lock is held, other mqsql invocations read the index without syncing it.
const OwnerSuffix = ".watch"

// Owner states, as written into the lock file.
const (
	OwnerLoading = "loading" // the first pass is running: the index may be behind the spool
	OwnerReady   = "ready"   // the index follows the spool
)

// ErrOwned reports that a live watcher already keeps the index file.
var ErrOwned = errors.New("index: a live watcher already keeps this index")

// Owner is a live watcher's claim on an index file: an open-file-description lock (Linux
// F_OFD_SETLK) on FILE.watch, held for as long as the process keeps it and dropped by the
// kernel when the process dies, so a stale claim cannot outlive its watcher.
type Owner struct {
	f     *os.File
	since time.Time
}

// OwnerInfo is what a reader learns about the watcher that owns an index file.
type OwnerInfo struct {
	PID   int
	State string
	Since time.Time
}

// Describe says who keeps the index and since when, for .status.
func (info OwnerInfo) Describe() string {
	return fmt.Sprintf("kept current by pid %d (mqsql watch, or a REPL on this file), %s since %s",
		info.PID, info.State, info.Since.Format("2006-01-02 15:04:05"))
}

// ClaimIndex claims dbPath for the calling process's watcher, without waiting. It fails with
// an error wrapping ErrOwned when another watcher holds it. The claim starts out loading.
//
// The file is opened the way every file beside an index is: in the index's directory, checked
// first (openIndexDir), without following a link or blocking on a FIFO, and refused unless it
// is a regular file of the caller's, before a byte is written to it.
func ClaimIndex(dbPath string) (*Owner, error) {
	path := dbPath + OwnerSuffix
	f, err := openOwnerFile(dbPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("claim index %s: %w", dbPath, err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
			info, _ := parseOwner(f)
			return nil, fmt.Errorf("%w: %s is kept by pid %d", ErrOwned, dbPath, info.PID)
		}
		return nil, fmt.Errorf("claim index %s: lock %s: %w", dbPath, path, err)
	}
	o := &Owner{f: f, since: time.Now()}
	if err := o.SetState(OwnerLoading); err != nil {
		o.Release()
		return nil, err
	}
	return o, nil
}

// ownerRecord is the fixed size of the lock file's content, written in one write so that a
// reader never sees half of an update.
const ownerRecord = 96

// SetState records the watcher's state for readers.
func (o *Owner) SetState(state string) error {
	rec := fmt.Sprintf("pid=%d\nstate=%s\nsince=%d\n", os.Getpid(), state, o.since.Unix())
	if len(rec) < ownerRecord {
		rec += strings.Repeat(" ", ownerRecord-len(rec)-1) + "\n"
	}
	if _, err := o.f.WriteAt([]byte(rec), 0); err != nil {
		return fmt.Errorf("record watcher state in %s: %w", o.f.Name(), err)
	}
	return nil
}

// Release gives up the claim.
func (o *Owner) Release() error {
	return o.f.Close()
}

// IndexOwner reports the live watcher that holds dbPath, if any. It only tests the lock, so a
// reader never gets in the way of a watcher claiming the file.
func IndexOwner(dbPath string) (OwnerInfo, bool, error) {
	f, err := openOwnerFile(dbPath, os.O_RDONLY, 0o777)
	if errors.Is(err, fs.ErrNotExist) {
		return OwnerInfo{}, false, nil
	}
	if err != nil {
		return OwnerInfo{}, false, fmt.Errorf("look for a watcher of %s: %w", dbPath, err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return OwnerInfo{}, false, fmt.Errorf("look for a watcher of %s: %w", dbPath, err)
	}
	if lk.Type == unix.F_UNLCK {
		return OwnerInfo{}, false, nil
	}
	info, _ := parseOwner(f)
	return info, true, nil
}

// openOwnerFile opens dbPath's .watch file relative to the index's checked directory (see
// ClaimIndex); perm 0777 leaves a file's mode as it is (a reader only looks).
func openOwnerFile(dbPath string, flag int, perm os.FileMode) (*os.File, error) {
	dir, err := openIndexDir(dbPath)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	return dir.OpenFile(filepath.Base(dbPath)+OwnerSuffix, flag, perm)
}

// ownerPoll is how often WaitForOwner looks whether a loading watcher is ready.
const ownerPoll = 100 * time.Millisecond

// WaitForOwner reports the live watcher of dbPath, waiting while it is still loading the
// index (a reader would see it half built); waiting is called once when that happens. It
// reports false when no watcher holds the file, or when it stops before it is ready.
func WaitForOwner(ctx context.Context, dbPath string, waiting func(OwnerInfo)) (OwnerInfo, bool, error) {
	told := false
	for {
		info, ok, err := IndexOwner(dbPath)
		if err != nil || !ok || info.State == OwnerReady {
			return info, ok, err
		}
		if !told && waiting != nil {
			waiting(info)
			told = true
		}
		select {
		case <-ctx.Done():
			return info, false, ctx.Err()
		case <-time.After(ownerPoll):
		}
	}
}

// parseOwner reads the lock file's record; fields it cannot read stay zero.
func parseOwner(f *os.File) (OwnerInfo, error) {
	buf := make([]byte, ownerRecord)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return OwnerInfo{}, err
	}
	var info OwnerInfo
	for _, line := range bytes.Split(buf[:n], []byte("\n")) {
		k, v, _ := strings.Cut(strings.TrimSpace(string(line)), "=")
		switch k {
		case "pid":
			info.PID, _ = strconv.Atoi(v)
		case "state":
			info.State = v
		case "since":
			if s, err := strconv.ParseInt(v, 10, 64); err == nil {
				info.Since = time.Unix(s, 0)
			}
		}
	}
	return info, nil
}
