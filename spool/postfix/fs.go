package postfix

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// root opens files below the queue directory without ever following a symbolic link, in the
// last path component or any other. A spool can be changed under mqsql by anyone who can
// write to it; a link planted there must not make a root-run reader open a file elsewhere.
type root struct {
	dir *os.File
}

func openRoot(path string) (*root, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat spool %s: %w", path, err)
	}
	if !st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("spool %s: not a directory", path)
	}
	return &root{dir: f}, nil
}

func (r *root) close() error { return r.dir.Close() }

// errSymlink reports that a path inside the spool went through a symbolic link.
var errSymlink = errors.New("symbolic link in path")

// open opens rel (slash-separated, relative to the root) read-only. It fails with an error
// wrapping errSymlink, rather than following, when any component is a symbolic link.
func (r *root) open(rel string, dir bool) (*os.File, error) {
	fd, err := r.openFD(rel, dir)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// openFD is open returning the bare descriptor, for the bulk reader: an os.File costs two
// more system calls (it tries to register the descriptor with the poller) and a finalizer.
func (r *root) openFD(rel string, dir bool) (int, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK
	if dir {
		flags |= unix.O_DIRECTORY
	}
	how := &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(int(r.dir.Fd()), rel, how)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		fd, err = r.openByComponent(rel, flags)
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		err = fmt.Errorf("%w: %w", errSymlink, err)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: rel, Err: err}
	}
	return fd, nil
}

// openByComponent is open for kernels without openat2: it walks rel one directory at a time,
// each step refusing links.
func (r *root) openByComponent(rel string, flags int) (int, error) {
	parts := strings.Split(rel, "/")
	dirfd := int(r.dir.Fd())
	owned := -1
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
		if err != nil {
			return -1, err
		}
		if i == len(parts)-1 {
			return fd, nil
		}
		if owned >= 0 {
			unix.Close(owned)
		}
		owned, dirfd = fd, fd
	}
	return -1, unix.EINVAL
}

// lstat returns the status of name inside the open directory d, not following links.
func lstatAt(d *os.File, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}
