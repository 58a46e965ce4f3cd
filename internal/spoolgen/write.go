package spoolgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// queueDirs are the directories of a Postfix spool the generator may write into, with the
// modes Postfix's postfix-files gives them.
var queueDirs = map[string]os.FileMode{
	"maildrop": 0o730, "incoming": 0o700, "active": 0o700, "deferred": 0o700, "hold": 0o700,
	"corrupt": 0o700, "defer": 0o700, "bounce": 0o700, "trace": 0o700,
}

// diskWriter puts generated messages into a spool directory the way Postfix does.
type diskWriter struct {
	root string
	opt  *Options
	pid  string
	seq  atomic.Int64
}

func newDiskWriter(root string, opt *Options) (*diskWriter, error) {
	w := &diskWriter{root: root, opt: opt, pid: strconv.Itoa(os.Getpid())}
	for name, mode := range queueDirs {
		if err := w.mkdir(filepath.Join(root, name), mode); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// mkdir creates a directory (if missing) with its mode and owner.
func (w *diskWriter) mkdir(path string, mode os.FileMode) error {
	if err := os.Mkdir(path, mode); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil
		}
		return fmt.Errorf("spoolgen: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil { // the umask may have cleared bits
		return fmt.Errorf("spoolgen: %w", err)
	}
	return w.chown(path)
}

func (w *diskWriter) chown(path string) error {
	if w.opt.UID == 0 && w.opt.GID == 0 {
		return nil
	}
	if err := os.Lchown(path, w.opt.UID, w.opt.GID); err != nil {
		return fmt.Errorf("spoolgen: %w", err)
	}
	return nil
}

// write creates m's queue file as mail_queue_enter does (a temporary name, fstat, a queue ID
// from the time and the inode number, rename into the hashed path), fills it, marks it
// complete with its final mode and mtime, and writes its defer log.
func (w *diskWriter) write(m *Message) error {
	qdir := filepath.Join(w.root, m.Queue)
	tmp := filepath.Join(qdir, strconv.FormatInt(w.seq.Add(1), 10)+"."+w.pid)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("spoolgen: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("spoolgen: stat %s: %w", tmp, err)
	}
	w.name(m, st.Ino)
	if err := w.rename(tmp, m.Path); err != nil {
		return err
	}
	if err := w.fill(f, filepath.Join(w.root, m.Path), m, Encode(m)); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spoolgen: %s: %w", m.Path, err)
	}
	return w.writeLog(m)
}

// name sets the queue ID and path that the inode number gives.
func (w *diskWriter) name(m *Message, ino uint64) {
	m.Inode = ino
	if m.LongID {
		m.QueueID = LongID(m.IDSec, m.IDUsec, ino)
	} else {
		m.QueueID = ShortID(m.IDUsec, ino)
	}
	m.Path = w.relPath(m.Queue, m)
}

func (w *diskWriter) relPath(dir string, m *Message) string {
	if !w.opt.hashed(dir) {
		return dir + "/" + m.QueueID
	}
	return dir + "/" + hashDirs(hashKey(m.QueueID, m.LongID, m.IDUsec), w.opt.HashQueueDepth) + m.QueueID
}

// rename moves the temporary file to rel, creating missing hash directories.
func (w *diskWriter) rename(tmp, rel string) error {
	dst := filepath.Join(w.root, rel)
	err := os.Rename(tmp, dst)
	if errors.Is(err, os.ErrNotExist) {
		if err = w.mkdirs(filepath.Dir(rel)); err == nil {
			err = os.Rename(tmp, dst)
		}
	}
	if err != nil {
		return fmt.Errorf("spoolgen: %w", err)
	}
	return nil
}

// mkdirs creates the hash directories of rel (relative to the root) that are missing.
func (w *diskWriter) mkdirs(rel string) error {
	parent := filepath.Dir(rel)
	if parent != "." && parent != rel {
		if _, err := os.Stat(filepath.Join(w.root, parent)); errors.Is(err, os.ErrNotExist) {
			if err := w.mkdirs(parent); err != nil {
				return err
			}
		}
	}
	return w.mkdir(filepath.Join(w.root, rel), 0o700)
}

// fill writes data, then sets owner, mode (the owner-execute bit marks the file complete) and
// the times.
func (w *diskWriter) fill(f *os.File, path string, m *Message, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("spoolgen: write %s: %w", m.Path, err)
	}
	if w.opt.UID != 0 || w.opt.GID != 0 {
		if err := f.Chown(w.opt.UID, w.opt.GID); err != nil {
			return fmt.Errorf("spoolgen: %w", err)
		}
	}
	if err := f.Chmod(os.FileMode(m.Mode)); err != nil {
		return fmt.Errorf("spoolgen: %w", err)
	}
	return setTimes(path, m.MTime)
}

func setTimes(path string, sec int64) error {
	t := time.Unix(sec, 0)
	if err := os.Chtimes(path, t, t); err != nil {
		return fmt.Errorf("spoolgen: %w", err)
	}
	return nil
}

// writeLog writes the defer log, mode 0600 as the bounce daemon creates it.
func (w *diskWriter) writeLog(m *Message) error {
	m.DeferLog = DeferLog(m)
	if m.DeferLog == "" {
		return nil
	}
	m.DeferLogPath = w.relPath("defer", m)
	path := filepath.Join(w.root, m.DeferLogPath)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if err = w.mkdirs(filepath.Dir(m.DeferLogPath)); err == nil {
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		}
	}
	if err != nil {
		return fmt.Errorf("spoolgen: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(m.DeferLog); err != nil {
		return fmt.Errorf("spoolgen: write %s: %w", m.DeferLogPath, err)
	}
	if w.opt.UID != 0 || w.opt.GID != 0 {
		if err := f.Chown(w.opt.UID, w.opt.GID); err != nil {
			return fmt.Errorf("spoolgen: %w", err)
		}
	}
	if err := setTimes(path, m.LogMTime); err != nil {
		return err
	}
	return f.Close()
}
