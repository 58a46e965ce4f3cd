package exim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// Walk lists every message: each -H in every input directory (and its split
// subdirectories), in name order as exim -bp lists them, with the queue its -H and -D make.
//
// A directory or -H it cannot list or read for a reason other than its absence does not stop
// it: it goes on, and returns an *mqsql.UnreadableError for each at its end (errors.Join).
func (s *Spool) Walk(ctx context.Context, fn func(mqsql.Entry) error) error {
	var u mqsql.Unreadables
	err := s.eachH(ctx, &u, func(h hpath) error {
		st, err := s.state(h)
		switch {
		case errors.Is(err, mqsql.ErrGone):
			return nil
		case err != nil:
			if !u.Add(string(h), err) {
				s.warn(err)
			}
			return nil
		}
		return fn(st.entry())
	})
	return errors.Join(err, u.Err())
}

// WalkParallel is Walk: Exim's spools are read a -H at a time either way, so fn is simply
// called from one goroutine.
func (s *Spool) WalkParallel(ctx context.Context, fn func(mqsql.Entry) error) error {
	return s.Walk(ctx, fn)
}

// WalkForRead lists every -H without reading it (Entry.Lazy, with only the path and a
// nominal queue); Read finds the real queue.
func (s *Spool) WalkForRead(ctx context.Context, fn func(mqsql.Entry) error) error {
	var u mqsql.Unreadables
	err := s.eachH(ctx, &u, func(h hpath) error {
		q, _ := s.QueueOfPath(string(h))
		return fn(mqsql.Entry{Queue: q, QueueID: h.id(), File: mqsql.FileInfo{Path: string(h)}, Lazy: true})
	})
	return errors.Join(err, u.Err())
}

// eachH calls fn for the path of every -H in every input directory; what it cannot list goes
// to u.
func (s *Spool) eachH(ctx context.Context, u *mqsql.Unreadables, fn func(hpath) error) error {
	for _, d := range s.inputDirs() {
		err := s.eachFile(ctx, d, u, func(rel, name string) error {
			// Like Exim's queue listing, any one-character subdirectory counts, not only the
			// one split_spool_directory would pick for the ID.
			if _, suffix, ok := idFromName(name); ok && suffix == 'H' {
				return fn(hpath(rel))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachFile calls fn for every regular file in dir and its one-character subdirectories, in
// name order. A missing dir has no files; links and other non-files are warned about; a dir
// it cannot list for another reason goes to u.
func (s *Spool) eachFile(ctx context.Context, dir string, u *mqsql.Unreadables, fn func(rel, name string) error) error {
	entries, ok := s.listDir(dir, u)
	if !ok {
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, name := dir+"/"+e.Name(), e.Name()
		var err error
		switch {
		case e.Type().IsRegular():
			err = fn(rel, name)
		case e.IsDir() && len(name) == 1 && isBase62(name[0]):
			err = s.eachFileFlat(ctx, rel, u, fn)
		case e.Type()&fs.ModeSymlink != 0:
			s.warn(fmt.Errorf("skip %s: symbolic link", rel))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// eachFileFlat is eachFile for a split subdirectory, which has no subdirectories of its own.
func (s *Spool) eachFileFlat(ctx context.Context, dir string, u *mqsql.Unreadables, fn func(rel, name string) error) error {
	entries, ok := s.listDir(dir, u)
	if !ok {
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Type().IsRegular() {
			if err := fn(dir+"/"+e.Name(), e.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

// listDir lists dir for a walk: false when it does not exist (or a link stands there, warned
// about) or could not be listed, which goes to u.
func (s *Spool) listDir(dir string, u *mqsql.Unreadables) ([]fs.DirEntry, bool) {
	entries, err := s.ListDir(dir)
	switch {
	case err == nil:
		return entries, true
	case errors.Is(err, fs.ErrNotExist):
	case mqsql.Absent(err): // a link, or no directory
		s.warn(fmt.Errorf("skip %s: %w", dir, err))
	case errors.Is(err, fs.ErrPermission):
		u.Add(dir, &PermissionError{Path: dir, Err: err})
	default:
		u.Add(dir, err)
	}
	return nil, false
}

// EachDelayLogStamp calls fn with the stamp of every msglog file, by message ID.
func (s *Spool) EachDelayLogStamp(ctx context.Context, fn func(id string, st mqsql.LogStamp)) error {
	var u mqsql.Unreadables
	for _, d := range s.msglogDirs() {
		err := s.eachFile(ctx, d, &u, func(rel, name string) error {
			if !ValidQueueID(name) {
				return nil
			}
			if st, err := s.root.Lstat(rel); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				fn(name, mqsql.LogStamp{Size: st.Size, ModTimeNanos: nanos(st.Mtim)})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return u.Err()
}

// DelayLogStamps is EachDelayLogStamp into a map.
func (s *Spool) DelayLogStamps(ctx context.Context) (map[string]mqsql.LogStamp, error) {
	out := map[string]mqsql.LogStamp{}
	var mu sync.Mutex
	err := s.EachDelayLogStamp(ctx, func(id string, st mqsql.LogStamp) {
		mu.Lock()
		out[id] = st
		mu.Unlock()
	})
	return out, err
}

// Stat looks at the -H at rel and returns it as a walk lists it, with the queue its content
// and -D make (q is ignored: the path cannot tell it); false when no message is there, and an
// *mqsql.UnreadableError when it could not look.
func (s *Spool) Stat(_ mqsql.Queue, id, rel string) (mqsql.Entry, bool, error) {
	if path.Base(rel) != id+"-H" || !ValidQueueID(id) {
		return mqsql.Entry{}, false, nil
	}
	st, err := s.state(hpath(rel))
	if ue := (*mqsql.UnreadableError)(nil); errors.As(err, &ue) {
		return mqsql.Entry{}, false, err
	}
	if err != nil {
		return mqsql.Entry{}, false, nil
	}
	return st.entry(), true, nil
}

// StatLog returns the stamp of id's msglog, wherever its -H's queue keeps it.
func (s *Spool) StatLog(id string) (mqsql.LogStamp, bool) {
	if !ValidQueueID(id) {
		return mqsql.NoLog, false
	}
	for _, d := range s.msglogDirs() {
		for _, rel := range []string{d + "/" + id, d + "/" + splitDir(id) + "/" + id} {
			st, err := s.root.Lstat(rel)
			if err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				return mqsql.LogStamp{Size: st.Size, ModTimeNanos: nanos(st.Mtim)}, true
			}
		}
	}
	return mqsql.NoLog, false
}

// ListDir lists the directory rel (relative to the spool, "." for the spool itself) through
// the link-safe root.
func (s *Spool) ListDir(rel string) ([]fs.DirEntry, error) { return s.root.ReadDir(rel) }

// IsDir reports whether rel is a directory, reached without following a link.
func (s *Spool) IsDir(rel string) bool { return s.root.IsDir(rel) }
