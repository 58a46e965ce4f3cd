package exim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// This file is restore's file operations in the spool, every one relative to the spool's
// link-safe root: hidden files written and checked before they get a real name, renames that
// never replace, and the directories Exim would have made.

// hiddenName is the name a restored file has until it is checked and put in place: a name
// Exim's queue runners and mqsql's reader skip (it is no ID-H, ID-D or msglog ID).
func hiddenName(dir, name string) string {
	return path.Join(dir, fmt.Sprintf(".mqsql-restore.%d.%s", os.Getpid(), name))
}

// writeHidden streams r into a new hidden file beside dest while hashing it, and keeps it only
// when the hash is want. It returns the hidden file's path.
func (s *Spool) writeHidden(dest string, r io.Reader, want string, mode uint32) (string, error) {
	dir, name := path.Split(dest)
	dir = path.Clean(dir)
	if err := s.mkdirs(dir); err != nil {
		return "", err
	}
	tmp := hiddenName(dir, name)
	f, owner, err := s.createIn(tmp)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(f, io.TeeReader(r, h))
	if err == nil && hex.EncodeToString(h.Sum(nil)) != want {
		err = fmt.Errorf("saved copy of %s does not match its checksum: not restored", name)
	}
	if err == nil {
		err = ownAndSync(f, owner, mode)
	}
	f.Close()
	if err != nil {
		_ = s.unlink(tmp)
		return "", err
	}
	return tmp, nil
}

// writeHeader writes data as the -H rel: into a hidden file first, flushed to disk, then
// renamed to rel unless rel exists (EEXIST), announced by announce right before.
func (s *Spool) writeHeader(rel string, data []byte, mode uint32, announce func()) error {
	dir, name := path.Split(rel)
	dir = path.Clean(dir)
	if err := s.mkdirs(dir); err != nil {
		return err
	}
	tmp := hiddenName(dir, name)
	f, owner, err := s.createIn(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = ownAndSync(f, owner, mode)
	}
	f.Close()
	if err == nil {
		announce()
		err = s.renameNoReplace(tmp, rel)
	}
	if err != nil {
		_ = s.unlink(tmp)
		return err
	}
	return s.syncDir(dir)
}

// rewriteFirstLine overwrites the first line of the hidden file rel with line, which has the
// same length (a -D's "ID-D\n" for another ID of the same format).
func (s *Spool) rewriteFirstLine(rel, line string) error {
	fd, err := s.root.OpenFD(rel, unix.O_RDWR)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	first := make([]byte, len(line))
	if n, err := unix.Pread(fd, first, 0); err != nil || n != len(line) || first[n-1] != '\n' {
		return fmt.Errorf("rewrite the first line of %s: not an ID line", rel)
	}
	if _, err := unix.Pwrite(fd, []byte(line), 0); err != nil {
		return fmt.Errorf("rewrite the first line of %s: %w", rel, err)
	}
	return unix.Fsync(fd)
}

// createIn creates the new file rel (mode 0600 until ownAndSync) without following a link,
// and returns it with the owner of its directory, which Exim's files have.
func (s *Spool) createIn(rel string) (*os.File, unix.Stat_t, error) {
	var owner unix.Stat_t
	dir, name := path.Split(rel)
	dfd, err := s.root.OpenFD(path.Clean(dir), unix.O_RDONLY|unix.O_DIRECTORY)
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

// ownAndSync gives f its directory's owner and the saved mode (Exim's 0640 when none was
// saved; never more than rw for owner and group) and flushes it.
func ownAndSync(f *os.File, owner unix.Stat_t, mode uint32) error {
	mode &= 0o660
	if mode == 0 {
		mode = defaultSpoolMode
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

// mkdirs makes the directory rel and those above it that are missing, as Exim makes a split
// subdirectory or a named queue's directories when it first needs them: mode 0750, owned by
// the directory above.
func (s *Spool) mkdirs(rel string) error {
	if rel == "." || s.root.IsDir(rel) {
		return nil
	}
	parent := path.Dir(rel)
	if err := s.mkdirs(parent); err != nil {
		return err
	}
	pfd, err := s.root.OpenFD(parent, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open %s: %w", parent, err)
	}
	defer unix.Close(pfd)
	var owner unix.Stat_t
	if err := unix.Fstat(pfd, &owner); err != nil {
		return err
	}
	name := path.Base(rel)
	if err := unix.Mkdirat(pfd, name, inputDirMode); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("make %s: %w", rel, err)
	}
	if err := unix.Fchownat(pfd, name, int(owner.Uid), int(owner.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", rel, err)
	}
	return nil
}

// renameNoReplace renames from to to (both relative to the spool, in directories reached
// without following a link) unless to exists: the error is then unix.EEXIST.
func (s *Spool) renameNoReplace(from, to string) error {
	fdir, fname := path.Split(from)
	tdir, tname := path.Split(to)
	ffd, err := s.root.OpenFD(path.Clean(fdir), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(ffd)
	tfd, err := s.root.OpenFD(path.Clean(tdir), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(tfd)
	return unix.Renameat2(ffd, fname, tfd, tname, unix.RENAME_NOREPLACE)
}

// unlink removes the file rel.
func (s *Spool) unlink(rel string) error {
	dir, name := path.Split(rel)
	if strings.Contains(name, "/") || name == "" {
		return fmt.Errorf("unlink %q: not a file name", rel)
	}
	dfd, err := s.root.OpenFD(path.Clean(dir), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return unix.Unlinkat(dfd, name, 0)
}

// syncDir flushes the directory rel's entries to disk.
func (s *Spool) syncDir(rel string) error {
	fd, err := s.root.OpenFD(rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}
