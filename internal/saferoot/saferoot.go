// Package saferoot opens files below a queue directory without ever following a symbolic link,
// in the last path component or any other. A queue can be changed under mqsql by anyone who
// can write to it; a link planted there must not make a reader run as root open a file
// elsewhere. Every MTA driver reads its queue through it, so the rule has one home.
package saferoot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrSymlink reports that a path inside the queue went through a symbolic link.
var ErrSymlink = errors.New("symbolic link in path")

// Root is an open queue directory, every path below which is resolved without links.
type Root struct {
	dir *os.File
}

// Open opens the directory dir as a root.
func Open(dir string) (*Root, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", dir, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat spool %s: %w", dir, err)
	}
	if !st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("spool %s: not a directory", dir)
	}
	return &Root{dir: f}, nil
}

// Close releases the root's directory handle.
func (r *Root) Close() error { return r.dir.Close() }

// OpenFD opens rel (slash-separated, relative to the root; "." is the root) with flags added to
// O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK, failing with an error wrapping ErrSymlink instead of
// following a link. It returns the bare descriptor, for bulk readers: an os.File costs two more
// system calls (it registers the descriptor with the poller) and a finalizer.
func (r *Root) OpenFD(rel string, flags int) (int, error) {
	flags |= unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK
	how := &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(int(r.dir.Fd()), rel, how)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		fd, err = r.openByComponent(rel, flags)
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		err = fmt.Errorf("%w: %w", ErrSymlink, err)
	}
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: rel, Err: err}
	}
	return fd, nil
}

// ReadOnly is OpenFD's flags for reading a file, or a directory when dir is set.
func ReadOnly(dir bool) int {
	if dir {
		return unix.O_RDONLY | unix.O_DIRECTORY
	}
	return unix.O_RDONLY
}

// openByComponent is OpenFD for kernels without openat2: one directory at a time, each step
// refusing links.
func (r *Root) openByComponent(rel string, flags int) (int, error) {
	if rel == "." {
		return unix.Openat(int(r.dir.Fd()), ".", flags, 0)
	}
	parts := strings.Split(rel, "/")
	dirfd, owned := int(r.dir.Fd()), -1
	defer func() {
		if owned >= 0 {
			unix.Close(owned)
		}
	}()
	for i, p := range parts {
		if p == "" || p == "." || p == ".." {
			return -1, unix.EINVAL
		}
		f := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_DIRECTORY
		if i == len(parts)-1 {
			f = flags
		}
		fd, err := unix.Openat(dirfd, p, f, 0)
		if err != nil || i == len(parts)-1 {
			return fd, err
		}
		if owned >= 0 {
			unix.Close(owned)
		}
		owned, dirfd = fd, fd
	}
	return -1, unix.EINVAL
}

// Open opens rel read-only as an *os.File (a directory when dir is set).
func (r *Root) Open(rel string, dir bool) (*os.File, error) {
	fd, err := r.OpenFD(rel, ReadOnly(dir))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// Lstat returns the status of rel without following a link in any component: it opens rel's
// directory through the root, then lstats the last component in it.
func (r *Root) Lstat(rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	dir, name := path.Split(rel)
	if name == "" || name == "." || name == ".." {
		return st, &fs.PathError{Op: "lstat", Path: rel, Err: unix.EINVAL}
	}
	d := "."
	if dir != "" {
		d = dir[:len(dir)-1]
	}
	fd, err := r.OpenFD(d, ReadOnly(true))
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &fs.PathError{Op: "lstat", Path: rel, Err: err}
	}
	return st, nil
}

// OpenReadFD is OpenFD read-only (a directory when dir is set).
func (r *Root) OpenReadFD(rel string, dir bool) (int, error) { return r.OpenFD(rel, ReadOnly(dir)) }

// ReadDir lists the directory rel ("." for the root).
func (r *Root) ReadDir(rel string) ([]fs.DirEntry, error) {
	d, err := r.Open(rel, true)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", rel, err)
	}
	return entries, nil
}

// IsDir reports whether rel is a directory, reached without following a link.
func (r *Root) IsDir(rel string) bool {
	st, err := r.Lstat(rel)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// FileType names the kind of file a stat mode is, for the errors that refuse a file that is
// not a regular one (a link, FIFO or device planted in a queue or a backup).
func FileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "symbolic link"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "device"
	}
	return fmt.Sprintf("mode %o", mode)
}
