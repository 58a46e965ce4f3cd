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
// directory mqsql keeps for itself such as the backup base or the cache. Missing parents are
// created 0700 as os.MkdirAll does, but each in a parent opened and checked first: the nearest
// parent that exists must pass OpenDir's check, and every directory made below it, the last
// one too, must not be a link and must belong to the caller (a looser mode of the caller's is
// tightened to 0700 on its descriptor). Nothing is created, removed or opened in a directory
// another user may change: root with XDG_CACHE_HOME or TMPDIR in a user's tree is refused
// instead of being led through that user's links.
func MkdirPrivate(path string) (*Dir, error) {
	path = filepath.Clean(path)
	base, missing := nearestExisting(filepath.Dir(path))
	d, err := OpenDir(base)
	if err != nil {
		return nil, err
	}
	for _, name := range append(missing, filepath.Base(path)) {
		sub, err := d.Mkdir(name)
		d.Close()
		if err != nil {
			return nil, err
		}
		d = sub
	}
	return d, nil
}

// nearestExisting splits dir into its nearest part that exists and the names below it that
// do not, in order.
func nearestExisting(dir string) (string, []string) {
	var missing []string
	for {
		if _, err := os.Lstat(dir); err == nil || !errors.Is(err, os.ErrNotExist) {
			return dir, missing
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir, missing
		}
		missing = append([]string{filepath.Base(dir)}, missing...)
		dir = parent
	}
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
