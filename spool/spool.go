// Package spool reads Postfix's mail queue: the queue directories, the queue files record by
// record, and the defer logs. It never changes the spool. It follows Postfix 3.7's own rules
// for which files count as messages (complete files at their hashed path) and for what
// postqueue shows, so that what mqsql reports agrees with Postfix's tools.
package spool

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// ErrGone reports a queue file that disappeared or moved between listing and reading:
// normal on a live queue, where Postfix moves mail all the time.
var ErrGone = errors.New("spool: queue file is gone")

// Spool is a Postfix queue directory opened for reading.
type Spool struct {
	cfg  Config
	root *root
	// Warn receives problems that do not belong to any message (a symbolic link where a
	// queue file should be, an unreadable directory). Nil discards them.
	Warn func(error)
}

// Open opens the queue directory cfg.QueueDirectory for reading.
func Open(cfg Config) (*Spool, error) {
	r, err := openRoot(cfg.QueueDirectory)
	if err != nil {
		return nil, err
	}
	return &Spool{cfg: cfg, root: r}, nil
}

// Close releases the spool's directory handle.
func (s *Spool) Close() error { return s.root.close() }

// Dir returns the queue directory.
func (s *Spool) Dir() string { return s.cfg.QueueDirectory }

// Config returns the settings the spool was opened with.
func (s *Spool) Config() Config { return s.cfg }

func (s *Spool) warn(err error) {
	if s.Warn != nil {
		s.Warn(err)
	}
}

// Entry is a queue file found by a walk, with what lstat said about it at that moment.
type Entry struct {
	Queue   mqsql.Queue
	QueueID string
	File    mqsql.FileInfo
	// Misplaced is "" normally; otherwise where Postfix expects the file. Postfix does not
	// see a file outside its hashed path until postsuper -s moves it.
	Misplaced string
}

// Read reads the queue file of e and its defer log. Problems with the file's content are
// reported in Message.Error, never as an error: a damaged file is still mail. The error is
// ErrGone when the file no longer exists where the walk saw it, or another error when it
// could not be opened (permissions).
func (s *Spool) Read(e Entry) (*mqsql.Message, error) {
	f, err := s.root.open(e.File.Path, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrGone
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.File.Path, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", e.File.Path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || (e.File.Inode != 0 && st.Ino != e.File.Inode) {
		return nil, ErrGone
	}
	m := &mqsql.Message{QueueID: e.QueueID, Queue: e.Queue, File: fileInfo(e.File.Path, &st), Size: -1, ArrivalTime: -1}
	if err := parseQueueFile(f, st.Size, m); err != nil {
		m.Error = err.Error()
	}
	if e.Misplaced != "" && m.Error == "" {
		m.Error = fmt.Sprintf("misplaced: Postfix looks for this file at %s (postsuper -s moves it there)", e.Misplaced)
	}
	s.finish(m)
	return m, nil
}

// finish fills the fields that come from the file's status rather than its records, and joins
// the defer log.
func (s *Spool) finish(m *mqsql.Message) {
	mtime := m.File.ModTimeNanos / 1e9
	m.NextAttempt = mtime
	m.ForcedExpire = m.File.Mode&0o010 != 0
	if m.Size < 0 {
		m.Size = m.File.Size
	}
	if m.ArrivalTime < 0 {
		m.ArrivalTime = mtime
	}
	if m.Queue == mqsql.Corrupt || !ValidQueueID(m.QueueID) {
		return
	}
	m.File.LogSize, m.File.LogModTimeNanos = -1, -1
	entries, st, err := s.readLog("defer", m.QueueID)
	if st != nil {
		m.File.LogSize, m.File.LogModTimeNanos = st.Size(), st.ModTime().UnixNano()
	}
	if err != nil {
		if m.Error == "" {
			m.Error = err.Error()
		}
		return
	}
	joinDeferLog(m, entries)
}

// readLog reads the log of one message from the named log directory (defer, bounce); a missing
// log is no entries.
func (s *Spool) readLog(dir, id string) ([]LogEntry, fs.FileInfo, error) {
	rel := s.cfg.RelPath(dir, id)
	f, err := s.root.open(rel, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("read %s: not a regular file", rel)
	}
	entries, err := parseLog(f)
	if err != nil {
		return nil, st, fmt.Errorf("read %s: %w", rel, err)
	}
	return entries, st, nil
}

func fileInfo(path string, st *unix.Stat_t) mqsql.FileInfo {
	return mqsql.FileInfo{
		Path:         path,
		Size:         st.Size,
		Inode:        st.Ino,
		Mode:         st.Mode & 0o7777,
		ModTimeNanos: st.Mtim.Sec*1e9 + st.Mtim.Nsec,
	}
}
