package sendmail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// walkControl calls fn for every regular file of each queue directory's control directory
// named like a qf, hf or Qf file of a valid queue ID. With stat, st is the file's lstat;
// without, st is nil when the directory listing said the entry is a regular file. Other
// entries (df, tf, xf files, Sendmail's own files, other queue directories) are skipped;
// links and other non-files named like control files are skipped with a warning and never
// followed.
//
// A control directory it cannot open or list, or a control file it cannot lstat, for a reason
// other than its absence does not stop it: it goes on with the other queue directories and
// returns an *mqsql.UnreadableError for each such place at its end (errors.Join). A control
// directory that does not exist (or is a link) still fails the walk: Check found it.
func (s *Spool) walkControl(ctx context.Context, stat bool, fn func(letter byte, id, rel string, st *unix.Stat_t) error) error {
	var u mqsql.Unreadables
	for _, qd := range s.dirs {
		if err := s.walkDir(ctx, qd.controlDir(), stat, &u, fn); err != nil {
			return err
		}
	}
	return u.Err()
}

// walkDir is walkControl of one control directory (spool-relative, "." for the spool's own).
func (s *Spool) walkDir(ctx context.Context, dir string, stat bool, u *mqsql.Unreadables, fn func(letter byte, id, rel string, st *unix.Stat_t) error) error {
	d, err := s.root.Open(dir, true)
	if err != nil {
		if u.Add(dir, err) {
			return nil
		}
		return fmt.Errorf("list %s: %w", path.Join(s.dir, dir), err)
	}
	defer d.Close()
	for {
		ents, err := d.ReadDir(1024)
		for _, ent := range ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.visit(d, dir, ent, stat, u, fn); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(ents) == 0) {
			return nil
		}
		if err != nil {
			u.Add(dir, err)
			return nil
		}
	}
}

// visit handles one entry of the control directory d (at dir) for walkControl.
func (s *Spool) visit(d *os.File, dir string, ent fs.DirEntry, stat bool, u *mqsql.Unreadables, fn func(letter byte, id, rel string, st *unix.Stat_t) error) error {
	letter, id, ok := parseName(ent.Name())
	if _, control := queueOfLetter(letter); !ok || !control {
		return nil
	}
	rel := ent.Name()
	if dir != "." {
		rel = dir + "/" + rel
	}
	if !stat && ent.Type().IsRegular() {
		return fn(letter, id, rel, nil)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(d.Fd()), ent.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		u.Add(rel, err) // unless it is gone since listing
		return nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		s.warn(fmt.Errorf("skip %s: not a regular file (mode %o)", rel, st.Mode))
		return nil
	}
	return fn(letter, id, rel, &st)
}

// Walk lists every control file (qf, hf, Qf), stat'ed, with whether a queue runner holds its
// lock (Stamp.Locked) as /proc/locks says at the walk's start. Entry.Queue is what the file's
// letter says before it is read: Hold for hf, Corrupt for Qf, Incoming for qf (ReadWithin
// tells incoming, deferred and active apart). Without /proc/locks (a container without
// /proc) no message is taken for locked, and ReadWithin warns once.
func (s *Spool) Walk(ctx context.Context, fn func(mqsql.Entry) error) error {
	locks, _ := s.locks.current(true) // the reads after a walk see locks as they are now
	return s.walkControl(ctx, true, func(letter byte, id, rel string, st *unix.Stat_t) error {
		q, _ := queueOfLetter(letter)
		e := mqsql.Entry{Queue: q, QueueID: id, File: fileInfo(rel, st), NoLog: true}
		e.File.Locked = lockedNow(locks, q, st)
		return fn(e)
	})
}

// WalkParallel is Walk: a Sendmail queue directory is one flat list, which one goroutine
// lists as fast as several.
func (s *Spool) WalkParallel(ctx context.Context, fn func(mqsql.Entry) error) error {
	return s.Walk(ctx, fn)
}

// WalkForRead is Walk without the stat of each file when the directory listing gives its type
// (Entry.Lazy: ReadWithin stats the opened file and tests its lock).
func (s *Spool) WalkForRead(ctx context.Context, fn func(mqsql.Entry) error) error {
	locks, _ := s.locks.current(true) // ReadWithin warns when it cannot be read
	return s.walkControl(ctx, false, func(letter byte, id, rel string, st *unix.Stat_t) error {
		q, _ := queueOfLetter(letter)
		e := mqsql.Entry{Queue: q, QueueID: id, File: mqsql.FileInfo{Path: rel}, Lazy: st == nil, NoLog: true}
		if st != nil {
			e.File = fileInfo(rel, st)
			e.File.Locked = lockedNow(locks, q, st)
		}
		return fn(e)
	})
}

// EachDelayLogStamp lists no log: Sendmail keeps none per message (its lock is the Stamp's
// Locked).
func (s *Spool) EachDelayLogStamp(context.Context, func(id string, st mqsql.LogStamp)) error {
	return nil
}

// DelayLogStamps is EachDelayLogStamp into a map: empty.
func (s *Spool) DelayLogStamps(context.Context) (map[string]mqsql.LogStamp, error) {
	return map[string]mqsql.LogStamp{}, nil
}

// Stat looks at rel, one place where id's control file may be, and returns it as a walk
// would list it; false when no control file of id is there. A link on the way is warned
// about and taken as no file; any other failure to look is an *mqsql.UnreadableError.
func (s *Spool) Stat(q mqsql.Queue, id, rel string) (mqsql.Entry, bool, error) {
	_, name := splitRel(rel)
	letter, nameID, ok := parseName(name)
	fq, control := queueOfLetter(letter)
	if !ok || !control || nameID != id {
		return mqsql.Entry{}, false, nil
	}
	st, err := s.root.Lstat(rel)
	if err != nil {
		if errors.Is(err, saferoot.ErrSymlink) {
			s.warn(fmt.Errorf("skip %s: %w", rel, err))
		}
		return mqsql.Entry{}, false, mqsql.Unreadable(rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return mqsql.Entry{}, false, nil
	}
	locks, _ := s.locks.current(false) // none without /proc/locks, as ReadWithin says
	e := mqsql.Entry{Queue: fq, QueueID: id, File: fileInfo(rel, &st), NoLog: true}
	e.File.Locked = lockedNow(locks, fq, &st)
	return e, true, nil
}

// StatLog finds no log: Sendmail keeps none per message.
func (s *Spool) StatLog(string) (mqsql.LogStamp, bool) { return mqsql.NoLog, false }

// ListDir lists the directory rel (relative to the queue) through the link-safe root.
func (s *Spool) ListDir(rel string) ([]fs.DirEntry, error) { return s.root.ReadDir(rel) }

// IsDir reports whether rel is a directory, reached without following a link.
func (s *Spool) IsDir(rel string) bool { return s.root.IsDir(rel) }

// splitRel splits a slash-separated path into its directory ("" for none) and name.
func splitRel(rel string) (dir, name string) {
	for i := len(rel) - 1; i >= 0; i-- {
		if rel[i] == '/' {
			return rel[:i], rel[i+1:]
		}
	}
	return "", rel
}
