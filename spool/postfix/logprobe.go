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
func (s *Spool) WalkParallelWithLogs(ctx context.Context, fn func(Entry) error) error {
	p := &logProbe{s: s}
	defer p.close()
	return s.walkQueuesParallel(ctx, true, func(e Entry) error {
		if !e.NoLog {
			st, err := p.stamp(e.QueueID)
			if err != nil {
				return err
			}
			e.Log = st
		}
		return fn(e)
	})
}

// logProbe looks up defer logs for one walk. It keeps the log directories it opened (one
// per hash directory, 16 with Postfix's defaults), so that each lookup is one fstatat; they
// are opened through the link-safe root, as a listing would open them. Walkers look them up
// without a lock: the map is replaced, never changed, when a directory is added.
type logProbe struct {
	s    *Spool
	dirs atomic.Pointer[map[string]*os.File] // by path relative to the spool; nil: not there, or a link
	mu   sync.Mutex                          // held while a directory is added
}

// stamp returns the stamp of id's defer log, zero when it has none.
func (p *logProbe) stamp(id string) (LogStamp, error) {
	var buf [64]byte
	dir, err := p.dir(p.s.cfg.appendDir(buf[:0], delayLogDir, id))
	if dir == nil {
		return LogStamp{}, err
	}
	st, err := lstatAt(dir, id)
	if err != nil {
		if !errors.Is(err, unix.ENOENT) {
			p.s.warn(fmt.Errorf("skip %s: %w", p.s.cfg.RelPath(delayLogDir, id), err))
		}
		return LogStamp{}, nil
	}
	ls, ok := logStamp(&st)
	if !ok {
		p.s.warn(fmt.Errorf("skip %s: not a regular file (%s)", p.s.cfg.RelPath(delayLogDir, id), saferoot.FileType(st.Mode)))
	}
	return ls, nil
}

// dir returns the open log directory rel, opening it on first use; nil when there is none.
// A directory that cannot be read for lack of permission fails the walk, as it would fail
// a listing.
func (p *logProbe) dir(rel []byte) (*os.File, error) {
	if m := p.dirs.Load(); m != nil {
		if d, seen := (*m)[string(rel)]; seen {
			return d, nil
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.dirs.Load()
	if old != nil {
		if d, seen := (*old)[string(rel)]; seen {
			return d, nil
		}
	}
	d, err := p.s.root.Open(string(rel), true)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		// no log was ever written there, or Postfix pruned the directory
	case errors.Is(err, fs.ErrPermission):
		return nil, &PermissionError{Path: string(rel), Err: err}
	default:
		p.s.warn(fmt.Errorf("skip %s: %w", rel, err))
	}
	m := make(map[string]*os.File, 1)
	if old != nil {
		m = maps.Clone(*old)
	}
	m[string(rel)] = d
	p.dirs.Store(&m)
	return d, nil
}

// close closes the directories the probe opened.
func (p *logProbe) close() {
	if m := p.dirs.Load(); m != nil {
		for _, d := range *m {
			if d != nil {
				d.Close()
			}
		}
	}
}

var _ mqsql.LogWalker = (*Spool)(nil)
