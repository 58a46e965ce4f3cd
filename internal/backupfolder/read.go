package backupfolder

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/mqsql/mqsql/internal/saferoot"
)

// This file is the reading side of a backup folder, which every driver's restore shares:
// trusting the folder, its manifest and its archive only when they are plain files the
// restoring user owns alone, and streaming the archive's copies without holding them whole.

// ErrRefused marks a backup folder, archive or copy that restore will not trust: what it
// would put into the queue would not be exactly what mqsql saved.
var ErrRefused = errors.New("backup refused")

// maxManifest bounds what restore reads of a manifest: a million messages take about 400 MB.
const maxManifest = 1 << 30

// ReadManifest decodes the manifest of the backup folder dir into m (a driver's Manifest). It
// refuses a folder or manifest that is not a plain directory and file (links, FIFOs) or that
// another user could have written.
func ReadManifest(dir string, m any) error {
	if err := CheckTrusted(dir, true); err != nil {
		return err
	}
	f, err := OpenTrusted(filepath.Join(dir, ManifestName))
	if err != nil {
		return fmt.Errorf("read backup %s: %w (a backup without a manifest is incomplete)", dir, err)
	}
	defer f.Close()
	if err := json.NewDecoder(io.LimitReader(f, maxManifest)).Decode(m); err != nil {
		return fmt.Errorf("read backup manifest %s: %w", dir, err)
	}
	return nil
}

// CheckTrusted refuses path unless it is a directory (dir) or regular file, not a link, owned
// by the caller and not writable by group or others.
func CheckTrusted(path string, dir bool) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fmt.Errorf("read backup %s: %w", path, err)
	}
	return trustedStat(path, &st, dir)
}

func trustedStat(path string, st *unix.Stat_t, dir bool) error {
	want, kind := uint32(unix.S_IFREG), "a regular file"
	if dir {
		want, kind = unix.S_IFDIR, "a directory"
	}
	switch {
	case st.Mode&unix.S_IFMT != want:
		return fmt.Errorf("%w: %s is not %s (%s)", ErrRefused, path, kind, saferoot.FileType(st.Mode))
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%w: %s is owned by uid %d, not by uid %d who restores", ErrRefused, path, st.Uid, os.Geteuid())
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o)", ErrRefused, path, st.Mode&0o7777)
	}
	return nil
}

// OpenTrusted opens a file of a backup without following a link and without blocking on a
// FIFO, and checks what it opened with fstat.
func OpenTrusted(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := trustedStat(path, &st, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// EachFile calls fn with each regular file saved in the archive of the backup folder dir, in
// order, as a stream; archive is the name the manifest gives it.
func EachFile(dir, archive string, fn func(name string, r io.Reader, size int64)) error {
	if archive == "" {
		return fmt.Errorf("backup %s names no archive: it was made by an earlier mqsql, which kept each copy as a file in the folder", dir)
	}
	if !filepath.IsLocal(archive) {
		return fmt.Errorf("backup %s: invalid archive name %q", dir, archive)
	}
	f, err := OpenTrusted(filepath.Join(dir, archive))
	if err != nil {
		return fmt.Errorf("read backup archive: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read backup archive %s: %w", f.Name(), err)
		}
		if hdr.Typeflag == tar.TypeReg {
			fn(hdr.Name, tr, hdr.Size)
		}
	}
}

// CheckSpool refuses a backup (its header h) made of another queue than spool, or by another
// MTA's driver than mta: restore would put mail where it never was. A header without an MTA
// (Postfix's manifests name none) is taken as Postfix's.
func CheckSpool(dir string, h Header, spool, mta string) error {
	made := h.MTA
	if made == "" {
		made = "postfix"
	}
	if made != mta {
		return fmt.Errorf("%w: %s was made of a queue of --mta %s, not of --mta %s", ErrRefused, dir, made, mta)
	}
	if h.Spool == "" || !SameDir(h.Spool, spool) {
		return fmt.Errorf("%w: %s was made of the spool %q, not of %q: name that spool with --spool", ErrRefused, dir, h.Spool, spool)
	}
	return nil
}

// SameDir reports whether a and b name the same directory: the same absolute path, or the
// same file.
func SameDir(a, b string) bool {
	if aa, err := filepath.Abs(a); err == nil {
		if bb, err := filepath.Abs(b); err == nil && aa == bb {
			return true
		}
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
