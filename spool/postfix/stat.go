package postfix

import (
	"errors"
	"fmt"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// complete reports whether a queue file's mode has Postfix's "complete" flag: cleanup writes
// a file with its owner rwx bits clear and sets them once the file is whole (mail_queue.c's
// MAIL_QUEUE_STAT_READY). A file without them is still being written and is no message yet.
func complete(mode uint32) bool { return mode&0o700 == 0o700 }

// nanos is a file's modification time in nanoseconds, as the index stores it.
func nanos(ts unix.Timespec) int64 { return ts.Sec*1e9 + ts.Nsec }

// logStamp is the stamp of the message log (defer, bounce) whose status is st; false when st is
// no regular file, which is never a log. Listing, looking up and reading a log all take its
// stamp here, so that what a warm start compares is what a read stored.
func logStamp(st *unix.Stat_t) (LogStamp, bool) {
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return mqsql.NoLog, false
	}
	return LogStamp{Size: st.Size, ModTimeNanos: nanos(st.Mtim)}, true
}

// Stat looks at one place where queue file id of queue q may be (its computed path, or a path
// an event or the index named) and returns it as a walk would list it: a regular file that,
// outside corrupt/, is complete. It opens nothing but directories, and those only through the
// link-safe root: a directory on the way that is a symbolic link is warned about and the file
// taken as not there, so a refresh of the other messages goes on. A failure to look for any
// other reason than the file's absence is an *mqsql.UnreadableError.
func (s *Spool) Stat(q mqsql.Queue, id, rel string) (Entry, bool, error) {
	st, err := s.root.Lstat(rel)
	if err != nil {
		if errors.Is(err, saferoot.ErrSymlink) {
			s.warn(fmt.Errorf("skip %s: %w", rel, err))
		}
		return Entry{}, false, mqsql.Unreadable(rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || (q != mqsql.Corrupt && !complete(st.Mode)) {
		return Entry{}, false, nil
	}
	e := Entry{Queue: q, QueueID: id, File: fileInfo(rel, &st), ForcedExpire: forcedExpire(st.Mode), NoLog: !HasDelayLog(q, id)}
	if q != mqsql.Corrupt && !s.cfg.isRelPath(string(q), id, rel) {
		e.Misplaced = s.cfg.RelPath(string(q), id)
	}
	return e, true, nil
}

// StatLog returns the stamp of id's defer log, and false when it has none (or id is no name
// Postfix would give a log).
func (s *Spool) StatLog(id string) (LogStamp, bool) {
	if !ValidQueueID(id) {
		return mqsql.NoLog, false
	}
	rel := s.cfg.RelPath("defer", id)
	st, err := s.root.Lstat(rel)
	if err != nil {
		if errors.Is(err, saferoot.ErrSymlink) {
			s.warn(fmt.Errorf("skip %s: %w", rel, err))
		}
		return mqsql.NoLog, false
	}
	return logStamp(&st)
}

// expireBit is the mode bit postsuper -e sets to force a message's expiration at its next
// delivery attempt (Postfix's MAIL_QUEUE_STAT_EXPIRE, the group-execute bit).
const expireBit = 0o010

// forcedExpire reports whether a file's mode says postsuper -e forced its expiration.
func forcedExpire(mode uint32) bool { return mode&expireBit != 0 }
