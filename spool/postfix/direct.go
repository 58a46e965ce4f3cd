package postfix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// Direct makes the same changes as postsuper and postqueue -i with file operations, for a spool
// that no running Postfix owns (an offline copy, a spool on a machine without Postfix). Like
// postsuper it moves files only by rename within the spool, never copy-and-delete (a queue
// file's name encodes its inode), and removes a message's logs with it.
type Direct struct {
	Spool         *Spool
	IncludeActive bool
	// Now is the clock used for the timestamps requeue and flush set; nil means time.Now.
	Now func() time.Time
}

var _ Executor = (*Direct)(nil)

// Command implements Executor.
func (d *Direct) Command(op mqsql.Op, queue mqsql.Queue) string {
	switch op {
	case mqsql.OpDelete:
		return fmt.Sprintf("unlink defer, bounce and trace logs, then %s/ID", queue)
	case mqsql.OpHold:
		return fmt.Sprintf("rename %s/ID to hold/ID", queue)
	case mqsql.OpRelease:
		return "rename hold/ID to deferred/ID"
	case mqsql.OpRequeue:
		return fmt.Sprintf("rename %s/ID to maildrop/ID, set its time to now", queue)
	case mqsql.OpFlush:
		return fmt.Sprintf("set the time of %s/ID to now, add mode 0040, rename it to incoming/ID", queue)
	case mqsql.OpExpire:
		return fmt.Sprintf("chmod g+x %s/ID", queue)
	case mqsql.OpExpireRelease:
		return "chmod g+x hold/ID, rename it to deferred/ID"
	}
	return string(op)
}

// Apply implements Executor.
func (d *Direct) Apply(ctx context.Context, op mqsql.Op, queue mqsql.Queue, targets []mqsql.Target) []mqsql.Outcome {
	var out []mqsql.Outcome
	for i, t := range targets {
		if err := ctx.Err(); err != nil {
			return append(out, interrupted(op, targets[i:], err)...)
		}
		if why := d.Spool.Check(t, d.IncludeActive); why != "" {
			out = append(out, outcome(t, op, mqsql.Skipped, why))
			continue
		}
		if err := d.apply(op, t); err != nil {
			out = append(out, outcome(t, op, mqsql.Failed, err.Error()))
			continue
		}
		out = append(out, outcome(t, op, mqsql.Applied, d.Command(op, t.Queue)))
	}
	return out
}

func (d *Direct) apply(op mqsql.Op, t mqsql.Target) error {
	s := d.Spool
	switch op {
	case mqsql.OpDelete:
		return s.deleteMessage(t)
	case mqsql.OpHold:
		return s.move(t, mqsql.Hold)
	case mqsql.OpRelease:
		return s.move(t, mqsql.Deferred)
	case mqsql.OpRequeue:
		if err := s.touch(t, d.now(), 0); err != nil {
			return err
		}
		return s.move(t, mqsql.Maildrop)
	case mqsql.OpFlush:
		if err := s.touch(t, d.now(), 0o040); err != nil {
			return err
		}
		return s.move(t, mqsql.Incoming)
	case mqsql.OpExpire:
		return s.touchMode(t, 0o010)
	case mqsql.OpExpireRelease:
		if err := s.touchMode(t, 0o010); err != nil {
			return err
		}
		return s.move(t, mqsql.Deferred)
	}
	return fmt.Errorf("unknown operation %q", op)
}

func (d *Direct) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// deleteMessage removes the message's logs, then the message, as postsuper -d does.
func (s *Spool) deleteMessage(t mqsql.Target) error {
	for _, log := range []string{"bounce", "defer", "trace"} {
		if err := s.unlink(s.cfg.RelPath(log, t.QueueID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s log: %w", log, err)
		}
	}
	if err := s.unlink(t.Path); err != nil {
		return fmt.Errorf("remove %s: %w", t.Path, err)
	}
	return nil
}

// unlink removes rel, a file inside the spool, without following links in its directories.
func (s *Spool) unlink(rel string) error {
	dir, name := path.Split(rel)
	d, err := s.root.Open(strings.TrimSuffix(dir, "/"), true)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Unlinkat(int(d.Fd()), name, 0)
}

// move renames the message into queue (at its hashed path there), creating a missing hash
// directory as Postfix would.
func (s *Spool) move(t mqsql.Target, to mqsql.Queue) error {
	dst := s.cfg.RelPath(string(to), t.QueueID)
	srcDir, srcName := path.Split(t.Path)
	dstDir, dstName := path.Split(dst)
	sd, err := s.root.Open(strings.TrimSuffix(srcDir, "/"), true)
	if err != nil {
		return fmt.Errorf("move %s: %w", t.Path, err)
	}
	defer sd.Close()
	dd, err := s.mkdirs(strings.TrimSuffix(dstDir, "/"))
	if err != nil {
		return fmt.Errorf("move %s: %w", t.Path, err)
	}
	defer dd.Close()
	if err := unix.Renameat2(int(sd.Fd()), srcName, int(dd.Fd()), dstName, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("move %s to %s: %w", t.Path, dst, err)
	}
	return nil
}

// mkdirs opens directory rel inside the spool, creating missing components with mode 0700 and
// the owner of their parent (Postfix's mail_owner on a real spool).
func (s *Spool) mkdirs(rel string) (*os.File, error) {
	if d, err := s.root.Open(rel, true); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return d, err
	}
	parent, name := path.Split(rel)
	p, err := s.mkdirs(strings.TrimSuffix(parent, "/"))
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(p.Fd()), &st); err != nil {
		return nil, err
	}
	if err := unix.Mkdirat(int(p.Fd()), name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	if err := unix.Fchownat(int(p.Fd()), name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, fmt.Errorf("chown %s: %w", rel, err)
	}
	return s.root.Open(rel, true)
}

// touch sets the file's times to now and adds mode bits, as postsuper -r and flush do.
func (s *Spool) touch(t mqsql.Target, now time.Time, addMode uint32) error {
	f, err := s.root.Open(t.Path, false)
	if err != nil {
		return err
	}
	defer f.Close()
	tv := unix.NsecToTimeval(now.UnixNano())
	if err := unix.Futimes(int(f.Fd()), []unix.Timeval{tv, tv}); err != nil {
		return fmt.Errorf("set time of %s: %w", t.Path, err)
	}
	if addMode != 0 {
		return fchmodAdd(f, addMode)
	}
	return nil
}

// touchMode adds mode bits to the file (postsuper -e sets group execute).
func (s *Spool) touchMode(t mqsql.Target, add uint32) error {
	f, err := s.root.Open(t.Path, false)
	if err != nil {
		return err
	}
	defer f.Close()
	return fchmodAdd(f, add)
}

func fchmodAdd(f *os.File, add uint32) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if err := unix.Fchmod(int(f.Fd()), (st.Mode&0o7777)|add); err != nil {
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	return nil
}
