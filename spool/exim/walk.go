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
func (s *Spool) Walk(ctx context.Context, fn func(mqsql.Entry) error) error {
	return s.eachH(ctx, func(h hpath) error {
		st, err := s.state(h)
		if errors.Is(err, mqsql.ErrGone) {
			return nil
		}
		if err != nil {
			var pe *PermissionError
			if errors.As(err, &pe) {
				return err
			}
			s.warn(err)
			return nil
		}
		return fn(st.entry())
	})
}

// WalkParallel is Walk: Exim's spools are read a -H at a time either way, so fn is simply
// called from one goroutine.
func (s *Spool) WalkParallel(ctx context.Context, fn func(mqsql.Entry) error) error {
	return s.Walk(ctx, fn)
}

// WalkForRead lists every -H without reading it (Entry.Lazy, with only the path and a
// nominal queue); Read finds the real queue.
func (s *Spool) WalkForRead(ctx context.Context, fn func(mqsql.Entry) error) error {
	return s.eachH(ctx, func(h hpath) error {
		q, _ := s.QueueOfPath(string(h))
		return fn(mqsql.Entry{Queue: q, QueueID: h.id(), File: mqsql.FileInfo{Path: string(h)}, Lazy: true})
	})
}

// eachH calls fn for the path of every -H in every input directory.
func (s *Spool) eachH(ctx context.Context, fn func(hpath) error) error {
	for _, d := range s.inputDirs() {
		err := s.eachFile(ctx, d, func(rel, name string) error {
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
// name order. A missing dir has no files; links and other non-files are warned about.
func (s *Spool) eachFile(ctx context.Context, dir string, fn func(rel, name string) error) error {
	entries, err := s.ListDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, fs.ErrPermission) {
		return &PermissionError{Path: dir, Err: err}
	}
	if err != nil {
		s.warn(fmt.Errorf("skip %s: %w", dir, err))
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, name := dir+"/"+e.Name(), e.Name()
		switch {
		case e.Type().IsRegular():
			err = fn(rel, name)
		case e.IsDir() && len(name) == 1 && isBase62(name[0]):
			err = s.eachFileFlat(ctx, rel, fn)
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
func (s *Spool) eachFileFlat(ctx context.Context, dir string, fn func(rel, name string) error) error {
	entries, err := s.ListDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.warn(fmt.Errorf("skip %s: %w", dir, err))
		}
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

// EachDelayLogStamp calls fn with the stamp of every msglog file, by message ID.
func (s *Spool) EachDelayLogStamp(ctx context.Context, fn func(id string, st mqsql.LogStamp)) error {
	for _, d := range s.msglogDirs() {
		err := s.eachFile(ctx, d, func(rel, name string) error {
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
	return nil
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
// and -D make (q is ignored: the path cannot tell it); false when no message is there.
func (s *Spool) Stat(_ mqsql.Queue, id, rel string) (mqsql.Entry, bool) {
	if path.Base(rel) != id+"-H" || !ValidQueueID(id) {
		return mqsql.Entry{}, false
	}
	st, err := s.state(hpath(rel))
	if err != nil {
		return mqsql.Entry{}, false
	}
	return st.entry(), true
}

// StatLog returns the stamp of id's msglog, wherever its -H's queue keeps it.
func (s *Spool) StatLog(id string) (mqsql.LogStamp, bool) {
	if !ValidQueueID(id) {
		return mqsql.LogStamp{}, false
	}
	for _, d := range s.msglogDirs() {
		for _, rel := range []string{d + "/" + id, d + "/" + splitDir(id) + "/" + id} {
			st, err := s.root.Lstat(rel)
			if err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				return mqsql.LogStamp{Size: st.Size, ModTimeNanos: nanos(st.Mtim)}, true
			}
		}
	}
	return mqsql.LogStamp{}, false
}

// ListDir lists the directory rel (relative to the spool, "." for the spool itself) through
// the link-safe root.
func (s *Spool) ListDir(rel string) ([]fs.DirEntry, error) { return s.root.ReadDir(rel) }

// IsDir reports whether rel is a directory, reached without following a link.
func (s *Spool) IsDir(rel string) bool { return s.root.IsDir(rel) }
