package postfix

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/mqsql/mqsql"
)

// This file is what a watcher and a refresh need to know of Postfix's queue layout: which
// directories change a message, what a changed path is about, where a queue ID may be. The
// index asks these questions instead of knowing the answers, so a second MTA's driver can
// answer them for its own layout.

// delayLogDir is the log directory whose files hold a message's delay reasons.
const delayLogDir = "defer"

// logDirs are the per-message log directories whose changes change a message: a new delay
// reason in defer/, a bounce being prepared in bounce/.
var logDirs = []string{delayLogDir, "bounce"}

// WatchedDirs lists the top-level directories (relative to the spool) whose changes change a
// message: every queue and the per-message log directories.
func (s *Spool) WatchedDirs() []string {
	tops := make([]string, 0, len(mqsql.AllQueues)+len(logDirs))
	for _, q := range mqsql.AllQueues {
		tops = append(tops, string(q))
	}
	return append(tops, logDirs...)
}

// Change is what a changed path means to a watcher (mqsql.Change).
type Change = mqsql.Change

// Classify says what a change at rel (relative to the spool) is about; false when rel is in
// no directory of WatchedDirs. Names Postfix would not accept as queue IDs are no message,
// except in corrupt/, where any file is a row.
func (s *Spool) Classify(rel string) (Change, bool) {
	top, rest, nested := strings.Cut(rel, "/")
	q := mqsql.Queue(top)
	if !q.Valid() && !slices.Contains(logDirs, top) {
		return Change{}, false
	}
	if !nested {
		return Change{Top: true}, true
	}
	name := path.Base(rest)
	c := Change{MaybeDir: len(name) == 1}
	switch {
	case q == mqsql.Corrupt:
		c.ID, c.Hint = name, rel
	case !ValidQueueID(name):
	case q.Valid():
		c.ID, c.Hint = name, rel
	default: // a log directory
		c.ID = name
	}
	return c, true
}

// IsHashDir reports whether a directory named name, depth levels below a top-level
// directory, is one Postfix's hashing makes and a walk or a watcher descends into.
func IsHashDir(name string, depth int) bool { return len(name) == 1 && depth < maxHashDepth }

// IsHashDir is the package's IsHashDir, for mqsql.Layout.
func (s *Spool) IsHashDir(name string, depth int) bool { return IsHashDir(name, depth) }

// QueueOfPath returns the queue a spool-relative path is in.
func QueueOfPath(rel string) (mqsql.Queue, bool) {
	dir, _, ok := strings.Cut(rel, "/")
	q := mqsql.Queue(dir)
	return q, ok && q.Valid()
}

// QueueOfPath is the package's QueueOfPath, for mqsql.Layout.
func (s *Spool) QueueOfPath(rel string) (mqsql.Queue, bool) { return QueueOfPath(rel) }

// Place is a path where a queue ID might be (mqsql.Place).
type Place = mqsql.Place

// Locations lists where Postfix would keep id: its computed path in every queue, or only
// corrupt/ for a name Postfix would not accept as a queue ID.
func (s *Spool) Locations(id string) []Place {
	if !ValidQueueID(id) {
		return []Place{{Queue: mqsql.Corrupt, Path: string(mqsql.Corrupt) + "/" + id}}
	}
	out := make([]Place, 0, len(mqsql.AllQueues))
	for _, q := range mqsql.AllQueues {
		out = append(out, Place{Queue: q, Path: s.cfg.RelPath(string(q), id)})
	}
	return out
}

// HasDelayLog reports whether Read joins a delay log to a file of queue q named id, so that
// the log's stamp is part of whether the file changed.
func HasDelayLog(q mqsql.Queue, id string) bool { return q != mqsql.Corrupt && ValidQueueID(id) }

// DelayLogStamps is LogStamps of the delay logs.
func (s *Spool) DelayLogStamps(ctx context.Context) (map[string]LogStamp, error) {
	return s.LogStamps(ctx, delayLogDir)
}

// EachDelayLogStamp is EachLogStamp of the delay logs.
func (s *Spool) EachDelayLogStamp(ctx context.Context, fn func(id string, st LogStamp)) error {
	return s.EachLogStamp(ctx, delayLogDir, fn)
}

// ListDir lists the directory rel (relative to the spool) through the link-safe root.
func (s *Spool) ListDir(rel string) ([]fs.DirEntry, error) { return s.root.ReadDir(rel) }

// IsDir reports whether rel (relative to the spool, below a top-level directory) is a
// directory, reached without following a symbolic link.
func (s *Spool) IsDir(rel string) bool { return s.root.IsDir(rel) }

// OnlyComplete reports whether only complete mail reaches queue q: every queue but incoming
// and maildrop, where a file may be one that cleanup or postdrop is still writing and that
// never becomes a message.
func OnlyComplete(q mqsql.Queue) bool { return q != mqsql.Incoming && q != mqsql.Maildrop }

// OnlyComplete is the package's OnlyComplete, for mqsql.Layout.
func (s *Spool) OnlyComplete(q mqsql.Queue) bool { return OnlyComplete(q) }

// ValidQueueID is the package's ValidQueueID, for mqsql.Layout.
func (s *Spool) ValidQueueID(id string) bool { return ValidQueueID(id) }
