package safefile

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// OpenFile opens or creates the file at path, never following a link at its last component,
// in a directory OpenDir accepts. See Dir.OpenFile.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	d, err := OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.OpenFile(filepath.Base(path), flag, perm)
}

// OpenFile opens or creates the entry name of d as os.OpenFile would, but refuses a symbolic
// link, anything but a regular file, a file owned by another user and a file with more than
// one hard link; a file of the caller's whose mode allows more than perm is tightened to perm
// on its descriptor. O_TRUNC takes effect only after those checks, so a refused file is left
// as it was; a FIFO cannot block the open.
func (d *Dir) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	if err := singleName(d, name); err != nil {
		return nil, err
	}
	path := d.Join(name)
	fd, err := unix.Openat(int(d.f.Fd()), name, (flag&^unix.O_TRUNC)|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, uint32(perm.Perm()))
	if err != nil {
		return nil, openError(path, err)
	}
	if err := checkFile(fd, path, perm.Perm()); err != nil {
		unix.Close(fd)
		return nil, err
	}
	err = unix.SetNonblock(fd, false)
	if err == nil && flag&unix.O_TRUNC != 0 {
		err = unix.Ftruncate(fd, 0)
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// checkFile applies OpenFile's checks to the open descriptor fd.
func checkFile(fd int, path string, perm os.FileMode) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	tighten, err := judge(&st, path, perm)
	if err == nil && tighten {
		if err := unix.Fchmod(fd, uint32(perm)); err != nil {
			return fmt.Errorf("make %s private: %w", path, err)
		}
	}
	return err
}

// judge refuses what st describes when it is not a regular file of the caller's with one
// link, and says whether its mode allows more than perm.
func judge(st *unix.Stat_t, path string, perm os.FileMode) (tighten bool, err error) {
	uid := uint32(os.Geteuid())
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return false, &UnsafeError{path, "it is a symbolic link"}
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return false, &UnsafeError{path, "it is not a regular file"}
	case st.Uid != uid:
		return false, &UnsafeError{path, fmt.Sprintf("it is owned by uid %d, not uid %d", st.Uid, uid)}
	case st.Nlink > 1:
		return false, &UnsafeError{path, fmt.Sprintf("it has %d hard links", st.Nlink)}
	}
	return os.FileMode(st.Mode)&0o777&^perm != 0, nil
}

// Check refuses the entry name of d when it exists and OpenFile would refuse it, and tightens
// a mode of the caller's file that allows more than perm; exists is false when there is no
// such entry. It looks without opening (fstatat, not following links): it is for files
// another program (SQLite) opens by name, and closing a descriptor of a file drops every
// POSIX lock the process holds on it, SQLite's too. Between this look and that program's
// open, only someone who may write d could swap the file; OpenDir's check leaves that to the
// caller and root, except in a Shared directory.
func (d *Dir) Check(name string, perm os.FileMode) (exists bool, err error) {
	if err := singleName(d, name); err != nil {
		return false, err
	}
	path := d.Join(name)
	var st unix.Stat_t
	err = unix.Fstatat(int(d.f.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	tighten, err := judge(&st, path, perm)
	if err == nil && tighten {
		// Not a link (fstatat said so), in a directory only the caller and root may change.
		if err := unix.Fchmodat(int(d.f.Fd()), name, uint32(perm), 0); err != nil {
			return true, fmt.Errorf("make %s private: %w", path, err)
		}
	}
	return true, err
}

// CreateTemp creates a new private file (0600) named prefix and a random suffix, as
// os.CreateTemp does, for a file that is written whole and then renamed into place.
func (d *Dir) CreateTemp(prefix string) (*os.File, string, error) {
	for range 100 {
		name := prefix + strconv.FormatUint(rand.Uint64(), 36)
		f, err := d.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("create temporary file in %s: too many tries", d.path)
}

// Rename renames the entry old of d to new, replacing what new named (a link at new is
// replaced, not followed).
func (d *Dir) Rename(old, new string) error {
	if err := unix.Renameat(int(d.f.Fd()), old, int(d.f.Fd()), new); err != nil {
		return &os.LinkError{Op: "rename", Old: d.Join(old), New: d.Join(new), Err: err}
	}
	return nil
}

// Remove removes the file name from d.
func (d *Dir) Remove(name string) error {
	if err := unix.Unlinkat(int(d.f.Fd()), name, 0); err != nil {
		return &os.PathError{Op: "remove", Path: d.Join(name), Err: err}
	}
	return nil
}

// singleName refuses a name with a slash: openat would follow links in its other parts.
func singleName(d *Dir, name string) error {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("%s: %q is not a name in the directory", d.path, name)
	}
	return nil
}
