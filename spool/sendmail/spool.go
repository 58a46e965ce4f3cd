package sendmail

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// Spool is the Sendmail driver of mqsql.Spool.
var _ mqsql.Spool = (*Spool)(nil)

// maxControlFile bounds how much of one control file is read: a qf holds the envelope and
// header only (the body is the df), about 60 bytes per recipient, so mqsql.MaxRecipients
// recipients fit well below it.
const maxControlFile = 64 << 20

// Spool is one Sendmail queue directory opened for reading.
type Spool struct {
	dir  string
	root *saferoot.Root
	// dirs are the queue directories read: the spool's own alone, or those of every queue
	// group sendmail.cf declares (OpenGroups).
	dirs  []queueDir
	locks lockCache
	// msp marks the mail submission program's queue (Debian: /var/spool/mqueue-client), whose
	// queued mail waits to be handed to the MTA: mqsql's maildrop.
	msp bool
	// sendmail is the command that runs the Sendmail installed here on this queue (program
	// first), nil when none does: the queue is then a copy, changed by file operations only.
	sendmail []string
	// Warn receives problems that belong to no message (a symbolic link where a queue file
	// should be). Nil discards them. It is never called from two goroutines at once.
	Warn   func(error)
	warnMu sync.Mutex
	// lockWarning says once per Spool that /proc/locks could not be read.
	lockWarning sync.Once
}

// Open opens the queue directory dir (flat, or with qf/ df/ xf/ subdirectories) for reading.
func Open(dir string) (*Spool, error) {
	r, err := saferoot.Open(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{dir: dir, root: r, locks: lockCache{path: locksPath}}
	s.dirs = []queueDir{s.queueDir("", "")}
	return s, nil
}

// queueDir is the queue directory rel of the spool in group, with the subdirectories it has.
func (s *Spool) queueDir(rel, group string) queueDir {
	d := queueDir{rel: rel, group: group}
	d.lay = layout{qf: s.subdir(d.path(subQF), subQF), df: s.subdir(d.path(subDF), subDF), xf: s.subdir(d.path(subXF), subXF)}
	return d
}

// OpenGroups opens the queue of every group of q for reading, in one Spool whose directory
// is q.Base: each message's path is relative to it, and its queue_name is its group's (NULL
// for the default group, mqueue).
func OpenGroups(q Queues) (*Spool, error) {
	s, err := Open(q.Base)
	if err != nil {
		return nil, err
	}
	s.dirs = nil
	seen := map[string]bool{}
	for _, g := range q.Groups {
		group := g.Name
		if group == DefaultGroup {
			group = ""
		}
		for _, dir := range g.Dirs {
			rel, err := filepath.Rel(q.Base, dir)
			if err != nil || !filepath.IsLocal(rel) && rel != "." {
				s.Close()
				return nil, fmt.Errorf("queue group %s: %s is not below the queue directory %s", g.Name, dir, q.Base)
			}
			if rel == "." {
				rel = ""
			}
			if !seen[rel] {
				seen[rel] = true
				s.dirs = append(s.dirs, s.queueDir(filepath.ToSlash(rel), group))
			}
		}
	}
	if len(s.dirs) == 0 {
		s.Close()
		return nil, fmt.Errorf("%s: no queue directory matches what the configuration declares", q.Base)
	}
	return s, nil
}

// OpenMaildrop opens the mail submission program's queue (Debian's /var/spool/mqueue-client,
// upstream's /var/spool/clientmqueue): the same files as the MTA's queue, whose qf files are
// mail not yet handed to the MTA, shown in queue maildrop.
func OpenMaildrop(dir string) (*Spool, error) {
	s, err := Open(dir)
	if err == nil {
		s.msp = true
	}
	return s, err
}

// subdir returns name when the spool-relative rel is a directory (not a link), else "".
func (s *Spool) subdir(rel, name string) string {
	st, err := s.root.Lstat(rel)
	if err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return name
	}
	return ""
}

// Close releases the queue's directory handle.
func (s *Spool) Close() error { return s.root.Close() }

// Dir returns the queue directory.
func (s *Spool) Dir() string { return s.dir }

func (s *Spool) warn(err error) {
	if s.Warn != nil {
		s.warnMu.Lock()
		defer s.warnMu.Unlock()
		s.Warn(err)
	}
}

// Read is ReadWithin without a budget.
func (s *Spool) Read(e mqsql.Entry) (*mqsql.Message, error) { return s.ReadWithin(e, nil) }

// ReadWithin reads the control file of e and the size of its df. Problems with the content
// go in Message.Error. The error is ErrGone when the file is no longer where the walk saw
// it (or not yet a message: a new qf Sendmail is still writing, under its lock; ErrIncomplete
// for such a file of WalkForRead), or a failure to open it.
func (s *Spool) ReadWithin(e mqsql.Entry, budget *mqsql.RecipientBudget) (*mqsql.Message, error) {
	data, st, err := s.readControl(e)
	if err != nil {
		return nil, err
	}
	locks, lerr := s.locks.current(false)
	if lerr != nil {
		s.lockWarning.Do(func() {
			s.warn(fmt.Errorf("%w: messages a queue runner holds show as incoming or deferred, not active", lerr))
		})
	}
	locked := locks[keyOf(st)]
	m := &mqsql.Message{QueueID: e.QueueID, Queue: e.Queue, File: fileInfo(e.File.Path, st)}
	m.File.Locked = locked && e.Queue != mqsql.Corrupt
	var f qfile
	problem, canceled := parseQF(data, &f, m, budget)
	if canceled != nil {
		return nil, canceled
	}
	if !f.terminated && locked && e.Queue != mqsql.Corrupt {
		if e.Lazy {
			return nil, mqsql.ErrIncomplete
		}
		return nil, mqsql.ErrGone // not a message yet; its completion is a new event
	}
	s.fill(m, &f, locked)
	m.Error = describe(e.Queue, problem)
	m.Listed = s.Meaning().Listed(m)
	return m, nil
}

// readControl opens e's control file through the root and reads it whole.
func (s *Spool) readControl(e mqsql.Entry) ([]byte, *unix.Stat_t, error) {
	fd, err := s.root.OpenFD(e.File.Path, unix.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, mqsql.ErrGone
	}
	if err != nil {
		// A link in its place is no part of the queue; any other failure (too many open
		// files, an I/O error) leaves whether it is there unknown.
		if mqsql.Absent(err) {
			return nil, nil, mqsql.ErrGone
		}
		return nil, nil, mqsql.Unreadable(e.File.Path, err)
	}
	defer unix.Close(fd)
	st := new(unix.Stat_t)
	if err := unix.Fstat(fd, st); err != nil {
		return nil, nil, mqsql.Unreadable(e.File.Path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || (e.File.Inode != 0 && st.Ino != e.File.Inode) {
		return nil, nil, mqsql.ErrGone
	}
	data := make([]byte, min(st.Size, maxControlFile))
	n, err := readFull(fd, data)
	if err != nil {
		return nil, nil, mqsql.Unreadable(e.File.Path, err)
	}
	return data[:n], st, nil
}

// readFull reads into p until it is full or the file ends.
func readFull(fd int, p []byte) (int, error) {
	total := 0
	for total < len(p) {
		n, err := unix.Pread(fd, p[total:], int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}

// describe is a message's error text: why a Qf file was set aside, and what is wrong with
// the content.
func describe(q mqsql.Queue, problem error) string {
	var text string
	if q == mqsql.Corrupt {
		text = "lost: Sendmail set this control file aside as Qf and will not deliver it"
		if problem != nil {
			text += ": " + problem.Error()
		}
	} else if problem != nil {
		text = problem.Error()
	}
	return text
}

func fileInfo(rel string, st *unix.Stat_t) mqsql.FileInfo {
	return mqsql.FileInfo{Path: rel, Stamp: mqsql.Stamp{
		Size:         st.Size,
		Inode:        st.Ino,
		Mode:         st.Mode & 0o7777,
		ModTimeNanos: st.Mtim.Sec*1e9 + st.Mtim.Nsec,
		Log:          mqsql.NoLog, // Sendmail keeps no per-message log
	}}
}
