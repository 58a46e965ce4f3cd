package sendmail

import (
	"errors"
	"fmt"
	"path"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// delete removes one message exactly as sendmail-queue.md §6 says a safe tool must, so that
// it never races a queue runner: open the control file read-write, flock it exclusively
// without waiting (a runner holds that lock for its whole delivery attempt: then the message
// is active and left alone), check that the name still points at the locked file (same
// device, inode, links and size: else Sendmail renamed a rewrite over it meanwhile), unlink
// the control file first (no control file, no job), then the df and any xf, and only then
// release the lock. Every name is reached through the link-safe root.
func (x *Executor) delete(t mqsql.Target) mqsql.Outcome {
	s := x.Spool
	dir, name := path.Split(t.Path)
	dirRel := "."
	if dir != "" {
		dirRel = dir[:len(dir)-1]
	}
	dfd, err := s.root.OpenFD(dirRel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return outcome(t, mqsql.OpDelete, mqsql.Failed, fmt.Sprintf("open %s: %v", dirRel, err))
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, name, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.ENOENT) {
		return outcome(t, mqsql.OpDelete, mqsql.Skipped, "gone: delivered, deleted or expired since the plan was made")
	}
	if err != nil {
		return outcome(t, mqsql.OpDelete, mqsql.Failed, fmt.Sprintf("open %s: %v", t.Path, err))
	}
	defer unix.Close(fd) // releases the lock, after the unlinks
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return outcome(t, mqsql.OpDelete, mqsql.Skipped, "active: a queue runner holds it (locked); left alone")
		}
		return outcome(t, mqsql.OpDelete, mqsql.Failed, fmt.Sprintf("flock %s: %v", t.Path, err))
	}
	if why := sameFile(dfd, fd, name); why != "" {
		return outcome(t, mqsql.OpDelete, mqsql.Skipped, why)
	}
	qf := dataLineOf(fd) // where its df is, read before the control file that says it goes
	if err := unix.Unlinkat(dfd, name, 0); err != nil {
		return outcome(t, mqsql.OpDelete, mqsql.Failed, fmt.Sprintf("unlink %s: %v", t.Path, err))
	}
	detail := "removed " + t.Path
	for _, letter := range []byte{letterData, letterXscr} {
		rel := s.partRel(t.Path, qf, letter, t.QueueID)
		switch err := s.root.Unlink(rel); {
		case err == nil:
			detail += ", " + rel
		case !errors.Is(err, unix.ENOENT):
			return outcome(t, mqsql.OpDelete, mqsql.Applied, fmt.Sprintf("%s; could not remove %s: %v", detail, rel, err))
		}
	}
	return outcome(t, mqsql.OpDelete, mqsql.Applied, detail)
}

// sameFile says why the locked descriptor fd is not what name in the directory dfd is now
// ("" when it is): Sendmail's own check before it trusts a lock (readqf).
func sameFile(dfd, fd int, name string) string {
	var open, now unix.Stat_t
	if err := unix.Fstat(fd, &open); err != nil {
		return fmt.Sprintf("fstat: %v", err)
	}
	if err := unix.Fstatat(dfd, name, &now, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "gone while it was locked"
	}
	if open.Dev != now.Dev || open.Ino != now.Ino || open.Nlink != now.Nlink || open.Size != now.Size {
		return "changed while it was locked (Sendmail rewrote it): left alone, run the statement again"
	}
	return ""
}

// dataLineOf reads the locked control file fd for its d line (the df kept in another queue
// directory); nil when it cannot be read, the df then looked for beside it.
func dataLineOf(fd int) *qfile {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Size > maxControlFile {
		return nil
	}
	data := make([]byte, st.Size)
	n, err := readFull(fd, data)
	if err != nil {
		return nil
	}
	var f qfile
	var m mqsql.Message
	if _, err := parseQF(data[:n], &f, &m, nil); err != nil && f.dfDir == "" {
		return nil
	}
	return &f
}
