// Package safefile opens files without following symbolic links. mqsql runs as root and
// writes its index, backups, audit log and history into directories an administrator names;
// a link or a file planted there by another user must be refused, never followed, chmod'ed or
// written through. Every name is opened relative to a directory that was opened and checked
// first (openat with O_NOFOLLOW), and what was opened is checked again on its descriptor
// (fstat, fchmod), so no check and use ever look at two different files.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrUnsafe is what every refusal of this package wraps, for callers that branch on it.
var ErrUnsafe = errors.New("refused")

// UnsafeError says which path was refused and why.
type UnsafeError struct {
	Path   string
	Reason string
}

func (e *UnsafeError) Error() string { return fmt.Sprintf("refused %s: %s", e.Path, e.Reason) }

// Unwrap makes errors.Is(err, ErrUnsafe) true.
func (e *UnsafeError) Unwrap() error { return ErrUnsafe }

// Dir is a directory opened and checked: owned by the caller or root and writable by no one
// else, unless its sticky bit keeps others from renaming or removing entries they do not own.
// Names are opened relative to its descriptor, so renaming a parent meanwhile changes nothing.
type Dir struct {
	f      *os.File
	path   string
	shared bool // others may create entries in it (sticky and writable by group or other)
}

// OpenDir opens the directory at path and checks it. The last component must not be a
// symbolic link; the components above it are resolved as named (a /var that is a link to
// another disk is the administrator's choice, not an attack).
func OpenDir(path string) (*Dir, error) {
	path = filepath.Clean(path)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	d := &Dir{f: os.NewFile(uintptr(fd), path), path: path}
	if err := d.check(false); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Path is the directory's path as it was named.
func (d *Dir) Path() string { return d.path }

// Join names an entry of the directory, for messages.
func (d *Dir) Join(name string) string { return filepath.Join(d.path, name) }

// Shared reports whether other users may create entries in the directory (a sticky,
// world-writable directory such as /tmp): a name that is missing now may be theirs later.
func (d *Dir) Shared() bool { return d.shared }

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

// check refuses a directory another user owns or may change. When own is set the directory
// is one mqsql keeps for itself, and a looser mode of the caller's own is tightened to 0700.
func (d *Dir) check(own bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(d.f.Fd()), &st); err != nil {
		return fmt.Errorf("%s: %w", d.path, err)
	}
	uid := uint32(os.Geteuid())
	switch {
	case st.Uid != uid && (own || st.Uid != 0):
		return &UnsafeError{d.path, fmt.Sprintf("the directory is owned by uid %d, not uid %d", st.Uid, uid)}
	case own && st.Mode&0o077 != 0:
		if err := unix.Fchmod(int(d.f.Fd()), 0o700); err != nil {
			return fmt.Errorf("make %s private: %w", d.path, err)
		}
		return nil
	case st.Mode&0o022 != 0 && st.Mode&unix.S_ISVTX == 0:
		return &UnsafeError{d.path, fmt.Sprintf("the directory is writable by other users (mode %o)", st.Mode&0o7777)}
	}
	d.shared = st.Mode&0o022 != 0
	return nil
}

// openError turns the errno of an O_NOFOLLOW open into words.
func openError(path string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		return &UnsafeError{path, "it is a symbolic link"}
	}
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENXIO) {
		return &UnsafeError{path, "it is not a regular file"} // a directory; a FIFO or socket
	}
	if errors.Is(err, unix.ENOTDIR) {
		// O_DIRECTORY is checked before O_NOFOLLOW: look again, only to say which it was.
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&os.ModeSymlink != 0 {
			return &UnsafeError{path, "it is a symbolic link"}
		}
		return &UnsafeError{path, "it is not a directory"}
	}
	return &os.PathError{Op: "open", Path: path, Err: err}
}
