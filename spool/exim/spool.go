package exim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// Spool is the Exim driver of mqsql.Spool.
var _ mqsql.Spool = (*Spool)(nil)

// Spool is an Exim spool_directory opened for reading.
type Spool struct {
	dir  string
	root *saferoot.Root
	// Warn receives problems that belong to no message (a symbolic link in the spool, an
	// unreadable directory). Nil discards them. It is never called from two goroutines at once.
	Warn   func(error)
	warnMu sync.Mutex
	// live is set by Driver.Open when the installed Exim runs on this spool.
	live bool
}

// Open opens the Exim spool directory dir (Exim's spool_directory) for reading.
func Open(dir string) (*Spool, error) {
	r, err := saferoot.Open(dir)
	if err != nil {
		return nil, err
	}
	return &Spool{dir: dir, root: r}, nil
}

// Detect reports whether dir looks like an Exim spool directory: it has an input/
// directory holding only Exim's spool names (ID-H, ID-D, ID-J, hdr.ID, one-character split
// directories) and no Postfix queue directories. It lets --mta auto tell Exim's spool from
// Postfix's without the admin naming the MTA.
func Detect(dir string) bool {
	st, err := os.Lstat(filepath.Join(dir, "input"))
	if err != nil || !st.IsDir() {
		return false
	}
	for _, pf := range []string{"maildrop", "active", "deferred", "incoming"} {
		if _, err := os.Lstat(filepath.Join(dir, pf)); err == nil {
			return false
		}
	}
	names, err := readNames(filepath.Join(dir, "input"))
	if err != nil {
		return false
	}
	for _, n := range names {
		if _, _, ok := idFromName(n); !ok && len(n) != 1 && !isTempName(n) {
			return false
		}
	}
	return true
}

// readNames lists a directory's names.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// isTempName reports whether name is Exim's temporary -H (hdr.ID) or -D (ID-D being written
// has its final name already).
func isTempName(name string) bool {
	return len(name) > 4 && name[:4] == "hdr." && ValidQueueID(name[4:])
}

// Close releases the spool's directory handle.
func (s *Spool) Close() error { return s.root.Close() }

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.dir }

func (s *Spool) warn(err error) {
	if s.Warn != nil {
		s.warnMu.Lock()
		defer s.warnMu.Unlock()
		s.Warn(err)
	}
}

// PermissionError reports a spool file or directory mqsql may not read: going on without it
// would hide the mail in it.
type PermissionError struct {
	Path string
	Err  error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("cannot read %s: permission denied: reading Exim's spool needs root (or the Exim user)", e.Path)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// openErr turns an error opening rel into the one a reader returns.
func openErr(rel string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return mqsql.ErrGone
	case errors.Is(err, fs.ErrPermission):
		return &PermissionError{Path: rel, Err: err}
	}
	return fmt.Errorf("read %s: %w", rel, err)
}

// nanos is a file's modification time in nanoseconds, as the index stores it.
func nanos(ts unix.Timespec) int64 { return ts.Sec*1e9 + ts.Nsec }
