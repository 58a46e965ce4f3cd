package exim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// root opens files below the spool directory without following a symbolic link in any path
// component. The spool belongs to the Exim user; a link planted there must not make a reader
// run as root open a file elsewhere.
type root struct {
	dir *os.File
}

// errSymlink reports a path inside the spool that went through a symbolic link.
var errSymlink = errors.New("symbolic link in path")

func openRoot(dir string) (*root, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", dir, err)
	}
	st, err := f.Stat()
	if err != nil || !st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open spool %s: not a directory", dir)
	}
	return &root{dir: f}, nil
}

func (r *root) close() error { return r.dir.Close() }

// openFD opens rel (slash-separated, relative to the spool) read-only, refusing links.
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
		fd, err = r.openStepwise(rel, flags)
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		err = fmt.Errorf("%w: %w", errSymlink, err)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: rel, Err: err}
	}
	return fd, nil
}

// openStepwise is openFD for kernels without openat2: one component at a time, each opened
// with O_NOFOLLOW.
func (r *root) openStepwise(rel string, flags int) (int, error) {
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
			return unix.Openat(dirfd, p, flags, 0)
		}
		fd, err := unix.Openat(dirfd, p, f, 0)
		if err != nil {
			return -1, err
		}
		if owned >= 0 {
			unix.Close(owned)
		}
		owned, dirfd = fd, fd
	}
	return -1, unix.EINVAL
}

// open is openFD as an *os.File.
func (r *root) open(rel string, dir bool) (*os.File, error) {
	fd, err := r.openFD(rel, dir)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// lstat returns the status of rel without following a link anywhere on the way.
func (r *root) lstat(rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	dir, name := path.Split(rel)
	fd := int(r.dir.Fd())
	if dir != "" {
		d, err := r.openFD(strings.TrimSuffix(dir, "/"), true)
		if err != nil {
			return st, err
		}
		defer unix.Close(d)
		fd = d
	}
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &os.PathError{Op: "lstat", Path: rel, Err: err}
	}
	return st, nil
}

// maxFile bounds what readFile reads of one file: a -H holds the headers, which Exim limits
// to header_maxsize (1 MiB by default); a msglog grows with every attempt.
const maxFile = 64 << 20

// readFile reads the regular file rel whole, with its status as opened.
func (r *root) readFile(rel string) ([]byte, unix.Stat_t, error) {
	var st unix.Stat_t
	f, err := r.open(rel, false)
	if err != nil {
		return nil, st, err
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, st, fmt.Errorf("stat %s: %w", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, st, fmt.Errorf("read %s: not a regular file", rel)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return nil, st, fmt.Errorf("read %s: %w", rel, err)
	}
	return data, st, nil
}
