package sendmail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// root opens files below the queue directory without ever following a symbolic link, in any
// path component. Anyone who can write to the queue could plant a link there; a reader run as
// root must not then open a file elsewhere. (Its own small copy of spool/postfix's idea, so
// that the Postfix driver stays untouched.)
type root struct {
	dir *os.File
}

func openRoot(dir string) (*root, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", dir, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat queue %s: %w", dir, err)
	}
	if !st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("queue %s: not a directory", dir)
	}
	return &root{dir: f}, nil
}

func (r *root) close() error { return r.dir.Close() }

// errSymlink reports that a path inside the queue went through a symbolic link.
var errSymlink = errors.New("symbolic link in path")

// openFD opens rel (slash-separated, relative to the root; "." is the root) with flags added
// to O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK, failing with an error wrapping errSymlink instead of
// following a link.
func (r *root) openFD(rel string, flags int) (int, error) {
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
		err = fmt.Errorf("%w: %w", errSymlink, err)
	}
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: rel, Err: err}
	}
	return fd, nil
}

// openByComponent is openFD for kernels without openat2: one directory at a time, each step
// refusing links.
func (r *root) openByComponent(rel string, flags int) (int, error) {
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

// open is openFD read-only as an *os.File.
func (r *root) open(rel string, dir bool) (*os.File, error) {
	flags := unix.O_RDONLY
	if dir {
		flags |= unix.O_DIRECTORY
	}
	fd, err := r.openFD(rel, flags)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// lstat returns the status of rel without following a link in any component: it opens rel's
// directory through the root, then lstats the last component in it.
func (r *root) lstat(rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	dir, name := path.Split(rel)
	if name == "" || name == "." || name == ".." {
		return st, &fs.PathError{Op: "lstat", Path: rel, Err: unix.EINVAL}
	}
	d := "."
	if dir != "" {
		d = dir[:len(dir)-1]
	}
	fd, err := r.openFD(d, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &fs.PathError{Op: "lstat", Path: rel, Err: err}
	}
	return st, nil
}
