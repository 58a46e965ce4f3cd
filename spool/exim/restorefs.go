package exim

import (
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// This file is restore's file operations in the spool, every one relative to the spool's
// link-safe root: hidden files written and checked before they get a real name, renames that
// never replace, and the directories Exim would have made.

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

// placer writes restored files as Exim's own: owned by the directory's owner (Exim's user),
// mode 0640 unless the backup saved another.
func (s *Spool) placer() saferoot.Placer {
	return saferoot.Placer{Root: s.root, DefaultMode: defaultSpoolMode}
}

// writeHidden writes a restored file's copy beside dest, checked against want (see
// saferoot.Placer.WriteHidden), making dest's directory first as Exim would.
func (s *Spool) writeHidden(dest string, r io.Reader, want string, mode uint32) (string, error) {
	if err := s.mkdirs(path.Dir(dest)); err != nil {
		return "", err
	}
	return s.placer().WriteHidden(dest, r, want, mode)
}

// writeHeader writes data as the -H rel, last of a message's files (see
// saferoot.Placer.WriteInPlace), announced by announce right before it appears.
func (s *Spool) writeHeader(rel string, data []byte, mode uint32, announce func()) error {
	if err := s.mkdirs(path.Dir(rel)); err != nil {
		return err
	}
	return s.placer().WriteInPlace(rel, data, mode, announce)
}
