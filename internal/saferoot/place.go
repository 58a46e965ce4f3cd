package saferoot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// Placer puts files into a root the way a restore must: each is written into a hidden file
// beside its place, checked, given its directory's owner and a mode, flushed, and only then
// renamed into place, and only when nothing is there (RENAME_NOREPLACE). An MTA thus never
// sees half a file, and a restore never overwrites one.
type Placer struct {
	Root *Root
	// DefaultMode is a file's mode when the saved one is 0; modes are kept to rw for owner
	// and group, which every MTA's queue accepts.
	DefaultMode uint32
}

// Hidden is the hidden name beside rel that a file is written under before it is renamed to
// rel: a dot name no MTA takes for a queue file, with this process's ID.
func Hidden(rel string) string {
	dir, name := split(rel)
	return path.Join(dir, fmt.Sprintf(".mqsql-restore.%d.%s", os.Getpid(), name))
}

// WriteHidden streams r into the hidden file of dest while hashing it, and keeps it only when
// its SHA-256 is want (hex). It returns the hidden file's path, for RenameNoReplace.
func (p Placer) WriteHidden(dest string, r io.Reader, want string, mode uint32) (string, error) {
	tmp := Hidden(dest)
	f, owner, err := p.Root.CreateExcl(tmp)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(f, io.TeeReader(r, h))
	if err == nil && hex.EncodeToString(h.Sum(nil)) != want {
		err = fmt.Errorf("saved copy of %s does not match its checksum: not restored", path.Base(dest))
	}
	if err == nil {
		err = p.ownAndSync(f, owner, mode)
	}
	f.Close()
	if err != nil {
		_ = p.Root.Unlink(tmp)
		return "", err
	}
	return tmp, nil
}

// WriteInPlace writes data as rel through its hidden file, calls announce right before the
// rename, and fails with unix.EEXIST, leaving nothing behind, when rel exists.
func (p Placer) WriteInPlace(rel string, data []byte, mode uint32, announce func()) error {
	tmp := Hidden(rel)
	f, owner, err := p.Root.CreateExcl(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = p.ownAndSync(f, owner, mode)
	}
	f.Close()
	if err == nil {
		announce()
		err = p.Root.RenameNoReplace(tmp, rel)
	}
	if err != nil {
		_ = p.Root.Unlink(tmp)
		return err
	}
	dir, _ := split(rel)
	return p.Root.SyncDir(dir)
}

// ownAndSync gives f its directory's owner and mode (see DefaultMode) and flushes it.
func (p Placer) ownAndSync(f *os.File, owner unix.Stat_t, mode uint32) error {
	mode &= 0o660
	if mode == 0 {
		mode = p.DefaultMode
	}
	if err := unix.Fchown(int(f.Fd()), int(owner.Uid), int(owner.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", f.Name(), err)
	}
	if err := unix.Fchmod(int(f.Fd()), mode); err != nil {
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	return nil
}

// CreateExcl creates the new file rel (mode 0600, never through a link, failing when it
// exists) and returns it with the status of its directory, whose owner restored files take.
func (r *Root) CreateExcl(rel string) (*os.File, unix.Stat_t, error) {
	var owner unix.Stat_t
	dir, name := split(rel)
	dfd, err := r.OpenFD(dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, owner, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	if err := unix.Fstat(dfd, &owner); err != nil {
		return nil, owner, err
	}
	fd, err := unix.Openat(dfd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, owner, fmt.Errorf("create %s: %w", rel, err)
	}
	return os.NewFile(uintptr(fd), rel), owner, nil
}

// RenameNoReplace renames from to to, both in directories reached without following a link,
// unless to exists: the error is then unix.EEXIST.
func (r *Root) RenameNoReplace(from, to string) error {
	fdir, fname := split(from)
	tdir, tname := split(to)
	ffd, err := r.OpenFD(fdir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(ffd)
	tfd, err := r.OpenFD(tdir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(tfd)
	return unix.Renameat2(ffd, fname, tfd, tname, unix.RENAME_NOREPLACE)
}

// Unlink removes the file rel, in a directory reached without following a link.
func (r *Root) Unlink(rel string) error {
	dir, name := split(rel)
	if name == "" {
		return fmt.Errorf("unlink %q: not a file name", rel)
	}
	dfd, err := r.OpenFD(dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return unix.Unlinkat(dfd, name, 0)
}

// SyncDir flushes the entries of the directory rel to disk.
func (r *Root) SyncDir(rel string) error {
	fd, err := r.OpenFD(rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}

// split cuts rel into its directory ("." for none) and its last name.
func split(rel string) (dir, name string) {
	dir, name = path.Split(rel)
	return path.Clean(dir), name
}
