package postfix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"sync"
	"sync/atomic"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// WalkParallelWithLogs is WalkParallel with each message's defer-log stamp in Entry.Log
// (mqsql.LogWalker). A defer log's place follows from its queue ID, so the walker that
// lstats a queue file lstats its log right after, where a listing of defer/ would be a
// second walk of nearly as many files, and one that cannot start comparing until it ends.
// It finds exactly the logs EachDelayLogStamp lists: regular files at the path Postfix
// gives the ID's log.
//
// A message whose log it cannot look at for a reason other than the log's absence is not
// passed on: its stamp is unknown, so its row must stay as it is. The walk reports it at its
// end, as an *mqsql.UnreadableError for the message's file, with what it could not see of its
// own.
func (s *Spool) WalkParallelWithLogs(ctx context.Context, fn func(Entry) error) error {
	p := &logProbe{s: s}
	defer p.close()
	err := s.walkQueuesParallel(ctx, true, func(e Entry) error {
		if !e.NoLog {
			st, err := p.stamp(e.QueueID)
			if p.unseen.Add(e.File.Path, err) {
				return nil
			}
			e.File.Log, e.LogTaken = st, true
		}
		return fn(e)
	})
	if err != nil && !mqsql.OnlyUnreadable(err) {
		return err
	}
	return errors.Join(err, p.unseen.Err())
}

// logProbe looks up defer logs for one walk. It keeps the log directories it opened (one
// per hash directory, 16 with Postfix's defaults), so that each lookup is one fstatat; they
// are opened through the link-safe root, as a listing would open them. Walkers look them up
// without a lock: the map is replaced, never changed, when a directory is added.
type logProbe struct {
	s      *Spool
	dirs   atomic.Pointer[map[string]logDir] // by path relative to the spool
	mu     sync.Mutex                        // held while a directory is added
	unseen mqsql.Unreadables                 // messages whose log could not be looked at
}

// logDir is a log directory a probe opened: f is nil when there is none (or a link stands
// there), and err says why it could not be opened when that is not known.
type logDir struct {
	f   *os.File
	err error
}

// stamp returns the stamp of id's defer log, mqsql.NoLog when it has none; an error when it
// could not be looked at (too many open files, an I/O error, permission).
func (p *logProbe) stamp(id string) (LogStamp, error) {
	var buf [64]byte
	dir := p.dir(p.s.cfg.appendDir(buf[:0], delayLogDir, id))
	if dir.f == nil {
		return mqsql.NoLog, dir.err
	}
	st, err := lstatAt(dir.f, id)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return mqsql.NoLog, nil
		}
		return mqsql.NoLog, fmt.Errorf("lstat %s: %w", p.s.cfg.RelPath(delayLogDir, id), err)
	}
	ls, ok := logStamp(&st)
	if !ok {
		p.s.warn(fmt.Errorf("skip %s: not a regular file (%s)", p.s.cfg.RelPath(delayLogDir, id), saferoot.FileType(st.Mode)))
		return mqsql.NoLog, nil
	}
	return ls, nil
}

// dir returns the log directory rel, opening it on first use. One that does not exist has no
// logs (none was ever written there, or Postfix pruned it), and a link in its place is none
// of the spool's; any other failure is kept in err for every log looked up there.
func (p *logProbe) dir(rel []byte) logDir {
	if m := p.dirs.Load(); m != nil {
		if d, seen := (*m)[string(rel)]; seen {
			return d
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.dirs.Load()
	if old != nil {
		if d, seen := (*old)[string(rel)]; seen {
			return d
		}
	}
	var d logDir
	var err error
	d.f, err = p.s.root.Open(string(rel), true)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
	case mqsql.Absent(err): // a link, or no directory
		p.s.warn(fmt.Errorf("skip %s: %w", rel, err))
	case errors.Is(err, fs.ErrPermission):
		d.err = &PermissionError{Path: string(rel), Err: err}
	default:
		d.err = err
	}
	m := make(map[string]logDir, 1)
	if old != nil {
		m = maps.Clone(*old)
	}
	m[string(rel)] = d
	p.dirs.Store(&m)
	return d
}

// close closes the directories the probe opened.
func (p *logProbe) close() {
	if m := p.dirs.Load(); m != nil {
		for _, d := range *m {
			if d.f != nil {
				d.f.Close()
			}
		}
	}
}

var _ mqsql.LogWalker = (*Spool)(nil)
