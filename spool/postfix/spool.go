// Package spool reads Postfix's mail queue: the queue directories, the queue files record by
// record, and the defer logs. It never changes the spool. It follows Postfix 3.7's own rules
// for which files count as messages (complete files at their hashed path) and for what
// postqueue shows, so that what mqsql reports agrees with Postfix's tools.
package postfix

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// ErrGone and ErrIncomplete are the root package's: see mqsql.ErrGone, mqsql.ErrIncomplete.
var (
	ErrGone       = mqsql.ErrGone
	ErrIncomplete = mqsql.ErrIncomplete
)

// Spool is the Postfix driver of mqsql.Spool.
var _ mqsql.Spool = (*Spool)(nil)
var _ mqsql.QueueWalker = (*Spool)(nil)

// PermissionError reports a queue directory or file mqsql may not read. It is an error, not
// a warning: going on without it would hide the mail in it.
type PermissionError struct {
	Path string
	Err  error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("cannot read %s: permission denied: reading the Postfix queue needs root (or Postfix's mail_owner)", e.Path)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// Spool is a Postfix queue directory opened for reading.
type Spool struct {
	cfg  Config
	root *saferoot.Root
	live bool // see Live
	// Warn receives problems that do not belong to any message (a symbolic link where a
	// queue file should be, an unreadable directory). Nil discards them. It is never called
	// from two goroutines at once, even by a parallel walk.
	Warn   func(error)
	warnMu sync.Mutex
}

// Open opens the queue directory cfg.QueueDirectory for reading.
func Open(cfg Config) (*Spool, error) {
	r, err := saferoot.Open(cfg.QueueDirectory)
	if err != nil {
		return nil, err
	}
	return &Spool{cfg: cfg, root: r}, nil
}

// Close releases the spool's directory handle.
func (s *Spool) Close() error { return s.root.Close() }

// Dir returns the queue directory.
func (s *Spool) Dir() string { return s.cfg.QueueDirectory }

// Config returns the settings the spool was opened with.
func (s *Spool) Config() Config { return s.cfg }

func (s *Spool) warn(err error) {
	if s.Warn != nil {
		s.warnMu.Lock()
		defer s.warnMu.Unlock()
		s.Warn(err)
	}
}

// Entry is a queue file found by a walk (mqsql.Entry).
type Entry = mqsql.Entry

// Read reads the queue file of e and its defer log. Problems with the file's content are
// reported in Message.Error, never as an error: a damaged file is still mail. The error is
// ErrGone when the file no longer exists where the walk saw it, ErrIncomplete for an entry of
// WalkForRead that is still being written, or another error when it could not be opened
// (permissions).
func (s *Spool) Read(e Entry) (*mqsql.Message, error) { return s.ReadWithin(e, nil) }

// ReadWithin is Read for the readers of one run that share budget (nil: none), which bounds
// the recipients they hold at once; see mqsql.RecipientBudget.
func (s *Spool) ReadWithin(e Entry, budget *mqsql.RecipientBudget) (*mqsql.Message, error) {
	fd, err := s.root.OpenReadFD(e.File.Path, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrGone
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, &PermissionError{Path: e.File.Path, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.File.Path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", e.File.Path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || (e.File.Inode != 0 && st.Ino != e.File.Inode) {
		return nil, ErrGone
	}
	if e.Lazy && e.Queue != mqsql.Corrupt && !complete(st.Mode) {
		return nil, ErrIncomplete
	}
	m := &mqsql.Message{QueueID: e.QueueID, Queue: e.Queue, File: fileInfo(e.File.Path, &st), Size: -1, ArrivalTime: -1}
	if err := parseQueueFile(fdReader(fd), st.Size, m, budget); err != nil {
		m.Error = err.Error()
	}
	if e.Misplaced != "" && m.Error == "" {
		m.Error = fmt.Sprintf("misplaced: Postfix looks for this file at %s (postsuper -s moves it there)", e.Misplaced)
	}
	s.finish(m)
	m.Listed = listed(m)
	return m, nil
}

// finish fills the fields that come from the file's status rather than its records, and joins
// the defer log.
func (s *Spool) finish(m *mqsql.Message) {
	mtime := m.File.ModTimeNanos / 1e9
	m.NextAttempt = mtime
	m.ForcedExpire = forcedExpire(m.File.Mode)
	if m.Size < 0 {
		m.Size = m.File.Size
	}
	if m.ArrivalTime < 0 {
		m.ArrivalTime = mtime
	}
	if m.Queue == mqsql.Corrupt || !ValidQueueID(m.QueueID) {
		return
	}
	entries, st, err := s.readLog("defer", m.QueueID, len(m.Recipients)+orphanLogEntries)
	if st != nil {
		m.File.Log = *st
	}
	if err != nil {
		if m.Error == "" {
			m.Error = err.Error()
		}
		if !errors.As(err, new(*LogLimitError)) {
			return
		}
	}
	joinDeferLog(m, entries)
}

// readLog reads the log of one message from the named log directory (defer, bounce), keeping
// at most limit distinct recipients' entries (see parseLogBuf); a missing log is no entries. It reads as many bytes as fstat reported, in one system call for the usual
// small log: the size and mtime it returns then describe exactly the bytes parsed.
func (s *Spool) readLog(dir, id string, limit int) ([]LogEntry, *LogStamp, error) {
	rel := s.cfg.RelPath(dir, id)
	fd, err := s.root.OpenReadFD(rel, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	fstatErr := unix.Fstat(fd, &st)
	stamp, isLog := logStamp(&st)
	if fstatErr != nil || !isLog {
		return nil, nil, fmt.Errorf("read %s: not a regular file", rel)
	}
	buf := logBuffers.Get().(*[]byte)
	defer logBuffers.Put(buf)
	entries, err := parseLogBuf(&sizedReader{fd: fd, size: st.Size}, (*buf)[:0], limit)
	if err != nil {
		return entries, &stamp, fmt.Errorf("read %s: %w", rel, err)
	}
	return entries, &stamp, nil
}

// logBuffers hold the line buffers of defer-log parsing, so that reading a million logs does
// not allocate a million buffers.
var logBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// fdReader reads a file by descriptor at any offset.
type fdReader int

// ReadAt reads len(p) bytes at off with pread, as io.ReaderAt requires.
func (fd fdReader) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := unix.Pread(int(fd), p[total:], off+int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, io.EOF
		}
		total += n
	}
	return total, nil
}

// sizedReader reads a file by descriptor from the start up to size bytes, and reports the end
// there without asking the kernel again.
type sizedReader struct {
	fd        int
	off, size int64
}

// Read reads on from where the last read ended, up to the size.
func (r *sizedReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if rest := r.size - r.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := fdReader(r.fd).ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func fileInfo(path string, st *unix.Stat_t) mqsql.FileInfo {
	return mqsql.FileInfo{Path: path, Stamp: mqsql.Stamp{
		Size:         st.Size,
		Inode:        st.Ino,
		Mode:         st.Mode & 0o7777,
		ModTimeNanos: nanos(st.Mtim),
		Log:          mqsql.NoLog, // Read joins the defer log, Stat and WalkParallelWithLogs its stamp
	}}
}

// MessageQueues are the queue directories Postfix creates in every queue_directory for mail
// (postfix-files); CheckQueueDir wants them all, so that a directory above or inside the queue
// (/var/spool, /var/spool/postfix/deferred) is not taken for an empty queue.
var MessageQueues = []string{"maildrop", "incoming", "active", "deferred", "hold"}

// NotQueueDirError is the root package's NotQueueError, for a directory that is no Postfix
// queue directory.
type NotQueueDirError = mqsql.NotQueueError

// notQueueDir is the NotQueueDirError of dir, lacking missing or not looked at because of err.
func notQueueDir(dir string, missing []string, err error) *NotQueueDirError {
	return &NotQueueDirError{MTA: "Postfix", Dir: dir, Missing: missing, Hint: "postconf -h queue_directory", Err: err}
}

// CheckQueueDir says whether dir is a Postfix queue directory: one holding every directory of
// MessageQueues. It returns a *NotQueueDirError when it is not, and a *PermissionError when
// dir may not be searched. Open does not call it, because tests and tools open partial trees;
// what reads a directory a person named (--spool) calls it first.
func CheckQueueDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return &PermissionError{Path: dir, Err: err}
		}
		return notQueueDir(dir, nil, unwrapPath(err))
	}
	if !st.IsDir() {
		return notQueueDir(dir, nil, errors.New("not a directory"))
	}
	var missing []string
	for _, q := range MessageQueues {
		st, err := os.Lstat(filepath.Join(dir, q))
		if errors.Is(err, fs.ErrPermission) {
			return &PermissionError{Path: dir, Err: err}
		}
		if err != nil || !st.IsDir() {
			missing = append(missing, q)
		}
	}
	if missing != nil {
		return notQueueDir(dir, missing, nil)
	}
	return nil
}

// unwrapPath drops the path an *fs.PathError repeats, for messages that name it already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
