package exim

import (
	"path"
	"slices"
	"strings"

	"github.com/mqsql/mqsql"
)

// This file answers a watcher's and a refresh's questions about Exim's layout. Exim's queue
// state is not in which directory a message is: a path alone says only where to look, and
// Stat or a read tells the queue.

// Top-level directories of an Exim spool that are not named queues.
const (
	inputDir        = "input"
	msglogDir       = "msglog"
	frozenInputDir  = "Finput"
	frozenMsglogDir = "Fmsglog"
)

// reservedTops are the spool's own top-level directories, never a named queue.
var reservedTops = []string{inputDir, msglogDir, frozenInputDir, frozenMsglogDir, "db", "scan", "exim-process.info"}

// namedQueues lists the named queues in the spool now: top-level directories holding an
// input/ directory.
func (s *Spool) namedQueues() []string {
	entries, err := s.ListDir(".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || slices.Contains(reservedTops, n) || strings.HasPrefix(n, ".") {
			continue
		}
		if s.IsDir(n + "/" + inputDir) {
			out = append(out, n)
		}
	}
	return out
}

// inputDirs lists the input directories of every queue: the default, Finput and the named.
func (s *Spool) inputDirs() []string {
	dirs := []string{inputDir, frozenInputDir}
	for _, q := range s.namedQueues() {
		dirs = append(dirs, q+"/"+inputDir)
	}
	return dirs
}

// msglogDirs lists the msglog directories matching inputDirs.
func (s *Spool) msglogDirs() []string {
	dirs := []string{msglogDir, frozenMsglogDir}
	for _, q := range s.namedQueues() {
		dirs = append(dirs, q+"/"+msglogDir)
	}
	return dirs
}

// WatchedDirs lists the top-level directories whose changes change a message: input/ and
// msglog/, their Finput/ and Fmsglog/ twins, and every named queue present now.
func (s *Spool) WatchedDirs() []string {
	return append([]string{inputDir, msglogDir, frozenInputDir, frozenMsglogDir}, s.namedQueues()...)
}

// Classify says what a change at rel is about: a -H or -J names its message with the -H's
// path as where to look, a -D or msglog file its message alone; hdr.ID temporaries are
// nothing (their rename onto ID-H is the change). A -D names no place: Exim writes it first
// and the -H only when the whole message is in, which on a slow connection is seconds later,
// and a -H that events named and that is not there is a message that left. Paths in no
// watched directory are false.
func (s *Spool) Classify(rel string) (mqsql.Change, bool) {
	top, rest, nested := strings.Cut(rel, "/")
	switch top {
	case inputDir, frozenInputDir, msglogDir, frozenMsglogDir:
		if !nested {
			return mqsql.Change{Top: true}, true
		}
		return classifyIn(top, rest), true
	case "db", ".", "":
		return mqsql.Change{}, false
	}
	if !nested {
		return s.classifyTop(top)
	}
	sub, rest2, nested2 := strings.Cut(rest, "/")
	if sub != inputDir && sub != msglogDir || slices.Contains(reservedTops, top) {
		return mqsql.Change{}, false
	}
	if !nested2 {
		return mqsql.Change{MaybeDir: true}, true
	}
	c := classifyIn(sub, rest2)
	if c.Hint != "" {
		c.Hint = top + "/" + c.Hint
	}
	return c, true
}

// classifyTop classifies a top-level entry that is not one of the default queue's
// directories: a named queue is watched like input/ (its removal or replacement needs a full
// pass); any other directory may be a named queue being made (exim -MG to a new queue
// creates NAME/ first and NAME/input/ after it), so a watcher watches it, and its input/ and
// msglog/ once they appear. Hidden names are nothing.
func (s *Spool) classifyTop(top string) (mqsql.Change, bool) {
	switch {
	case slices.Contains(reservedTops, top) || strings.HasPrefix(top, "."):
		return mqsql.Change{}, false
	case slices.Contains(s.namedQueues(), top):
		return mqsql.Change{Top: true}, true
	}
	return mqsql.Change{MaybeDir: true}, true
}

// classifyIn classifies rest, a path below the input or msglog directory dir.
func classifyIn(dir, rest string) mqsql.Change {
	name := path.Base(rest)
	sub := path.Dir(rest)
	c := mqsql.Change{MaybeDir: len(name) == 1 && sub == "."}
	if dir == msglogDir || dir == frozenMsglogDir {
		if ValidQueueID(name) {
			c.ID = name
		}
		return c
	}
	id, suffix, ok := idFromName(name)
	if !ok {
		return c
	}
	c.ID = id
	if suffix != 'D' {
		c.Hint = path.Join(dir, sub, id+"-H")
	}
	return c
}

// IsHashDir reports whether a directory named name, depth levels below a watched directory,
// is one Exim's layout makes: a split_spool_directory subdirectory (one base-62 character),
// or a named queue's input/ and msglog/.
func (s *Spool) IsHashDir(name string, depth int) bool {
	if len(name) == 1 && isBase62(name[0]) {
		return depth <= 1
	}
	return depth == 0 && (name == inputDir || name == msglogDir)
}

// QueueOfPath returns a nominal queue for a -H path: hold for Finput/, deferred for the other
// input directories. Exim's state is inside the -H, so Stat gives the real one.
func (s *Spool) QueueOfPath(rel string) (mqsql.Queue, bool) {
	if !strings.HasSuffix(rel, "-H") {
		return "", false
	}
	if strings.HasPrefix(rel, frozenInputDir+"/") {
		return mqsql.Hold, true
	}
	if strings.HasPrefix(rel, inputDir+"/") || strings.Contains(rel, "/"+inputDir+"/") {
		return mqsql.Deferred, true
	}
	return "", false
}

// Locations lists every place Exim may keep id's -H: the flat and split paths of every input
// directory, as Exim itself looks in both.
func (s *Spool) Locations(id string) []mqsql.Place {
	if !ValidQueueID(id) {
		return nil
	}
	var out []mqsql.Place
	for _, d := range s.inputDirs() {
		for _, rel := range []string{d + "/" + id + "-H", d + "/" + splitDir(id) + "/" + id + "-H"} {
			q, _ := s.QueueOfPath(rel)
			out = append(out, mqsql.Place{Queue: q, Path: rel})
		}
	}
	return out
}

// HasDelayLog reports whether a read joins id's msglog stamp to its -H: for every message,
// since the msglog is where Exim writes each attempt's outcome.
func (s *Spool) HasDelayLog(_ mqsql.Queue, id string) bool { return ValidQueueID(id) }

// OnlyComplete reports true for every queue: Exim writes a -H as hdr.ID and renames it into
// place, so a -H that vanished was a message.
func (s *Spool) OnlyComplete(mqsql.Queue) bool { return true }

// ValidQueueID is the package's ValidQueueID, for mqsql.Layout.
func (s *Spool) ValidQueueID(id string) bool { return ValidQueueID(id) }

// ActiveIsALock is true: a message is active while a delivery process holds its -D lock,
// which Exim takes and releases without changing a file (mqsql.LockedActive).
func (s *Spool) ActiveIsALock() bool { return true }
