package safefile

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// MkdirPrivate creates the directory at path (mode 0700) or opens it when it exists, for a
// directory mqsql keeps for itself such as the backup base. Missing parents are created 0700
// as os.MkdirAll does; the parent must pass OpenDir's check, the directory itself must not be
// a link and must belong to the caller, and a looser mode of the caller's is tightened to
// 0700 on its descriptor.
func MkdirPrivate(path string) (*Dir, error) {
	path = filepath.Clean(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	parent, err := OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	return parent.Mkdir(filepath.Base(path))
}

// Mkdir creates the directory name in d (0700) or opens it when it exists, with the checks
// MkdirPrivate describes.
func (d *Dir) Mkdir(name string) (*Dir, error) {
	if name == "." { // MkdirPrivate(".") or of a path ending in "/."
		return d.openSub(".")
	}
	if err := singleName(d, name); err != nil {
		return nil, err
	}
	if err := unix.Mkdirat(int(d.f.Fd()), name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &os.PathError{Op: "mkdir", Path: d.Join(name), Err: err}
	}
	return d.openSub(name)
}

// MkdirTemp creates a new private directory named prefix and a random suffix, as
// os.MkdirTemp does.
func (d *Dir) MkdirTemp(prefix string) (*Dir, error) {
	for range 100 {
		name := prefix + strconv.FormatUint(rand.Uint64(), 36)
		err := unix.Mkdirat(int(d.f.Fd()), name, 0o700)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "mkdir", Path: d.Join(name), Err: err}
		}
		return d.openSub(name)
	}
	return nil, fmt.Errorf("create directory in %s: too many tries", d.path)
}

// openSub opens the subdirectory name of d without following a link and checks it is the
// caller's own.
func (d *Dir) openSub(name string) (*Dir, error) {
	path := d.Join(name)
	fd, err := unix.Openat(int(d.f.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	sub := &Dir{f: os.NewFile(uintptr(fd), path), path: path}
	if err := sub.check(true); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}
