package sendmail

import (
	"path"
	"strings"

	"github.com/mqsql/mqsql"
)

// The file letters (sendmail.h): the first byte of a queue file's name says what it is.
const (
	letterQueue = 'q' // control file of a queued message
	letterHold  = 'h' // control file of a quarantined message
	letterLost  = 'Q' // control file Sendmail set aside (loseqfile)
	letterData  = 'd' // the body
	letterTemp  = 't' // a control file being rewritten, renamed over qf/hf
	letterStale = 'T' // a stale tf saved away
	letterXscr  = 'x' // the transcript of a running delivery
)

// controlLetters are the control files that are messages rows, in the order Locations
// lists them.
var controlLetters = []byte{letterQueue, letterHold, letterLost}

// Sendmail writes files into subdirectories qf/ (control files, also hf, Qf, tf, Tf), df/ and
// xf/ of a queue directory when they exist (queue.c, QP_SUBQF/QP_SUBDF/QP_SUBXF), and flat
// into the directory otherwise.
const (
	subQF = "qf"
	subDF = "df"
	subXF = "xf"
)

// layout is where one queue directory keeps each kind of file: "" for the directory itself,
// or the name of its subdirectory.
type layout struct {
	qf, df, xf string
}

// dirOf returns the directory (relative to the queue, "" for itself) of files with letter.
func (l layout) dirOf(letter byte) string {
	switch letter {
	case letterData:
		return l.df
	case letterXscr:
		return l.xf
	}
	return l.qf
}

// rel is the path of file letter+"f"+id relative to the queue directory.
func (l layout) rel(letter byte, id string) string {
	name := string([]byte{letter, 'f'}) + id
	if d := l.dirOf(letter); d != "" {
		return d + "/" + name
	}
	return name
}

// subdirs lists the subdirectories the layout uses.
func (l layout) subdirs() []string {
	var out []string
	for _, d := range []string{l.qf, l.df, l.xf} {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// parseName splits a queue file name into its letter and queue ID; ok is false for names
// that are no queue file of a valid ID.
func parseName(name string) (letter byte, id string, ok bool) {
	if len(name) < 3 || name[1] != 'f' || !ValidQueueID(name[2:]) {
		return 0, "", false
	}
	switch name[0] {
	case letterQueue, letterHold, letterLost, letterData, letterTemp, letterStale, letterXscr:
		return name[0], name[2:], true
	}
	return 0, "", false
}

// queueOfLetter is the queue a control file's letter puts it in before it is read. A qf
// file's real queue (incoming, deferred or active) depends on its attempt count and its
// lock, which only a read sees: until then it is Incoming, the queue whose files may still be
// being written, as a new qf is.
func queueOfLetter(letter byte) (mqsql.Queue, bool) {
	switch letter {
	case letterQueue:
		return mqsql.Incoming, true
	case letterHold:
		return mqsql.Hold, true
	case letterLost:
		return mqsql.Corrupt, true
	}
	return "", false
}

// letterOfQueue is the control-file letter of files in queue q.
func letterOfQueue(q mqsql.Queue) byte {
	switch q {
	case mqsql.Hold:
		return letterHold
	case mqsql.Corrupt:
		return letterLost
	}
	return letterQueue
}

// queueDir is one queue directory of the spool: the spool's own directory, or one of the
// directories of a queue group below it (Sendmail requires every queue path to be below
// QueueDirectory, "not subpath of QueueDirectory" otherwise).
type queueDir struct {
	rel   string // relative to the spool, "" for the spool's own directory
	group string // the queue group's name, "" for the default group (mqueue)
	lay   layout
}

// path is the spool-relative path of p (relative to the queue directory).
func (d queueDir) path(p string) string {
	if d.rel == "" {
		return p
	}
	return d.rel + "/" + p
}

// controlDir is the spool-relative directory of its control files, "." for the spool's own.
func (d queueDir) controlDir() string {
	switch {
	case d.rel == "" && d.lay.qf == "":
		return "."
	case d.lay.qf == "":
		return d.rel
	}
	return d.path(d.lay.qf)
}

// dirOf returns the queue directory whose files rel (spool-relative) is among, by rel's
// directory: the queue directory itself or its qf/, df/ or xf/. False for other paths.
func (s *Spool) dirOf(rel string) (*queueDir, bool) {
	dir, _ := splitRel(rel)
	for i := range s.dirs {
		d := &s.dirs[i]
		if dir == d.rel {
			return d, true
		}
		for _, sub := range d.lay.subdirs() {
			if dir == d.path(sub) {
				return d, true
			}
		}
	}
	return nil, false
}

// WatchedDirs lists the queue directories below the spool's own (which a watcher always
// watches) and the qf/, df/, xf/ subdirectories of each.
func (s *Spool) WatchedDirs() []string {
	var out []string
	for _, d := range s.dirs {
		if d.rel != "" {
			out = append(out, d.rel)
		}
		for _, sub := range d.lay.subdirs() {
			out = append(out, d.path(sub))
		}
	}
	return out
}

// Classify says what a change at rel (relative to the spool) is about: a control file's
// change is about its queue ID at that path; a df, tf, Tf or xf file's about its ID, to be
// looked for where its control files may be. False for paths in no directory the queue uses.
func (s *Spool) Classify(rel string) (mqsql.Change, bool) {
	if inList(s.WatchedDirs(), rel) {
		return mqsql.Change{Top: true}, true
	}
	if _, ok := s.dirOf(rel); !ok {
		return mqsql.Change{}, false
	}
	letter, id, ok := parseName(path.Base(rel))
	if !ok {
		return mqsql.Change{}, true
	}
	if _, control := queueOfLetter(letter); control {
		return mqsql.Change{ID: id, Hint: rel}, true
	}
	return mqsql.Change{ID: id}, true
}

func inList(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IsHashDir reports false: Sendmail's queue has no hash directories.
func (s *Spool) IsHashDir(name string, depth int) bool { return false }

// QueueOfPath returns the queue of the control file at rel, as known before reading it (see
// queueOfLetter).
func (s *Spool) QueueOfPath(rel string) (mqsql.Queue, bool) {
	letter, _, ok := parseName(path.Base(rel))
	if !ok {
		return "", false
	}
	return queueOfLetter(letter)
}

// Locations lists where Sendmail would keep id's control file: qf, hf and Qf, in each queue
// directory.
func (s *Spool) Locations(id string) []mqsql.Place {
	if !ValidQueueID(id) {
		return nil
	}
	out := make([]mqsql.Place, 0, len(controlLetters)*len(s.dirs))
	for _, d := range s.dirs {
		for _, l := range controlLetters {
			q, _ := queueOfLetter(l)
			out = append(out, mqsql.Place{Queue: q, Path: d.path(d.lay.rel(l, id))})
		}
	}
	return out
}

// OnlyComplete reports whether only complete files reach queue q: every queue but the qf
// files not yet read (Incoming), since Sendmail writes a new message's qf in place.
func (s *Spool) OnlyComplete(q mqsql.Queue) bool { return q != mqsql.Incoming }

// ValidQueueID is the package's ValidQueueID, for mqsql.Layout.
func (s *Spool) ValidQueueID(id string) bool { return ValidQueueID(id) }

// A Sendmail queue's active is a lock (mqsql.LockedActive).
var _ mqsql.LockedActive = (*Spool)(nil)

// ActiveIsALock is true: a message is active while a queue runner holds flock on its qf
// (locks.go). A runner that ends without rewriting the qf (killed, timed out, or one that
// only looked) releases the lock without changing a file, so no event says it is over.
func (s *Spool) ActiveIsALock() bool { return true }

// partRel is where the file letter (df, xf, or another control file) of the message id whose
// control file is at ctrl lives: in the same queue directory, in its place for such files,
// except a df that the control file f (nil: not read) names another queue directory for with
// a d line.
func (s *Spool) partRel(ctrl string, f *qfile, letter byte, id string) string {
	d, ok := s.dirOf(ctrl)
	if !ok {
		d = &s.dirs[0]
	}
	if letter == letterData && f != nil && f.dfDir != "" {
		if dd, ok := s.dirNamed(f.dfDir); ok {
			d = dd
		}
	}
	return d.path(d.lay.rel(letter, id))
}

// dirNamed returns the queue directory a d line names: its path relative to the spool (as
// Sendmail writes it, qp_name), or absolute below the spool; "" and "." are the spool's own.
func (s *Spool) dirNamed(name string) (*queueDir, bool) {
	name = strings.TrimSuffix(name, "/")
	if strings.HasPrefix(name, "/") {
		rest, ok := strings.CutPrefix(name, strings.TrimSuffix(s.dir, "/"))
		if !ok {
			return nil, false
		}
		name = strings.TrimPrefix(rest, "/")
	}
	if name == "." {
		name = ""
	}
	for i := range s.dirs {
		if s.dirs[i].rel == name {
			return &s.dirs[i], true
		}
	}
	return nil, false
}
