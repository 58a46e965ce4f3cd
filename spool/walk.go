package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// maxHashDepth bounds how deep a walk descends into one-character subdirectories.
const maxHashDepth = 16

// Walk lists the messages of every queue in mqsql.AllQueues and calls fn for each, in showq's
// queue order. In message queues it lists what showq lists: regular files named like queue
// IDs whose owner rwx bits are set (Postfix's "complete" flag); files being written are not
// messages yet. In corrupt it lists every regular file. Symbolic links and other non-files
// are skipped with a warning and never followed.
func (s *Spool) Walk(ctx context.Context, fn func(Entry) error) error {
	for _, q := range mqsql.AllQueues {
		if err := s.WalkQueue(ctx, q, fn); err != nil {
			return err
		}
	}
	return nil
}

// WalkQueue is Walk for one queue. A queue directory that does not exist has no messages.
func (s *Spool) WalkQueue(ctx context.Context, q mqsql.Queue, fn func(Entry) error) error {
	err := s.walkFiles(ctx, string(q), 0, func(path, name string, st *unix.Stat_t) error {
		return s.queueFile(q, path, name, st, fn)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// LogStamp is what lstat says about one message's log file.
type LogStamp struct {
	Size         int64
	ModTimeNanos int64
}

// LogStamps lists the logs in the named log directory (defer, bounce) by queue ID, so that an
// index can tell which messages have new delay reasons without opening every log.
func (s *Spool) LogStamps(ctx context.Context, dir string) (map[string]LogStamp, error) {
	stamps := map[string]LogStamp{}
	err := s.walkFiles(ctx, dir, 0, func(path, name string, st *unix.Stat_t) error {
		if ValidQueueID(name) && s.cfg.RelPath(dir, name) == path {
			stamps[name] = LogStamp{Size: st.Size, ModTimeNanos: st.Mtim.Sec*1e9 + st.Mtim.Nsec}
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return stamps, err
}

// walkFiles calls fn for every regular file below rel, descending into one-character
// subdirectories as showq does. Other non-files are skipped with a warning.
func (s *Spool) walkFiles(ctx context.Context, rel string, depth int, fn func(path, name string, st *unix.Stat_t) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := s.root.open(rel, true)
	if err != nil {
		if depth == 0 && errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while we walked: Postfix prunes hash directories
		}
		s.warn(fmt.Errorf("skip %s: %w", rel, err))
		return nil
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(1024)
		for _, name := range names {
			if err := s.visit(ctx, d, rel, name, depth, fn); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.warn(fmt.Errorf("list %s: %w", rel, err))
			return nil
		}
	}
}

func (s *Spool) visit(ctx context.Context, d *os.File, rel, name string, depth int, fn func(path, name string, st *unix.Stat_t) error) error {
	st, err := lstatAt(d, name)
	if err != nil {
		return nil // gone since listing
	}
	path := rel + "/" + name
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if len(name) == 1 && depth < maxHashDepth {
			return s.walkFiles(ctx, path, depth+1, fn)
		}
		s.warn(fmt.Errorf("skip %s: unexpected directory", path))
		return nil
	case unix.S_IFREG:
	default:
		s.warn(fmt.Errorf("skip %s: not a regular file (%s)", path, fileType(st.Mode)))
		return nil
	}
	return fn(path, name, &st)
}

// queueFile decides whether a regular file in queue q is a message, and passes it on.
func (s *Spool) queueFile(q mqsql.Queue, path, name string, st *unix.Stat_t, fn func(Entry) error) error {
	e := Entry{Queue: q, QueueID: name, File: fileInfo(path, st)}
	if q != mqsql.Corrupt {
		if !ValidQueueID(name) {
			if st.Mode&0o700 == 0o700 && name != ".gitkeep" {
				s.warn(fmt.Errorf("skip %s: not a queue ID", path))
			}
			return nil
		}
		if st.Mode&0o700 != 0o700 {
			return nil // still being written
		}
		if want := s.cfg.RelPath(string(q), name); want != path {
			e.Misplaced = want
		}
	}
	return fn(e)
}

func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "symbolic link"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "device"
	}
	return fmt.Sprintf("mode %o", mode)
}
