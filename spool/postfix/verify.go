package postfix

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// Check reports whether t still names the same queue file, right before mqsql acts on it. It
// returns "" when the file is where the plan saw it, with the same inode and arrival time;
// otherwise why it must be left alone: it moved to another queue, left the queue, was replaced
// by another message with the same (reused) queue ID, or is being delivered (active) when
// includeActive is false.
func (s *Spool) Check(t mqsql.Target, includeActive bool) string {
	if !ValidQueueID(t.QueueID) || !t.Queue.Valid() {
		return fmt.Sprintf("invalid target %q in %q", t.QueueID, t.Queue)
	}
	st, arrival, err := s.identify(t.Path)
	if errors.Is(err, fs.ErrNotExist) {
		if q := s.find(t.QueueID); q != "" {
			return fmt.Sprintf("moved to %s since the plan was made", q)
		}
		return "gone: delivered, deleted or expired since the plan was made"
	}
	if err != nil {
		return fmt.Sprintf("cannot check the file: %v", err)
	}
	switch {
	case st.Ino != t.Inode:
		return fmt.Sprintf("replaced: queue ID %s now names another file (inode %d, was %d)", t.QueueID, st.Ino, t.Inode)
	case !complete(st.Mode) && t.Queue != mqsql.Corrupt:
		return "the file is no longer complete"
	case arrival >= 0 && arrival != t.ArrivalTime:
		return fmt.Sprintf("replaced: arrival time is %d, was %d", arrival, t.ArrivalTime)
	case t.Queue == mqsql.Active && !includeActive:
		return "active: delivery in progress (--include-active acts on it anyway)"
	}
	return ""
}

// identify returns a queue file's status and its arrival time from the first T record, or -1
// when it has none (the arrival shown then is the mtime, which Postfix changes).
func (s *Spool) identify(path string) (unix.Stat_t, int64, error) {
	var st unix.Stat_t
	f, err := s.root.Open(path, false)
	if err != nil {
		return st, -1, err
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return st, -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return st, -1, fmt.Errorf("%s: not a regular file", path)
	}
	return st, firstTime(f, st.Size), nil
}

// firstTime reads records up to the first T record of the envelope; -1 when there is none.
func firstTime(r io.ReaderAt, size int64) int64 {
	rr := newRecordReader(r, size)
	for i := 0; i < 64; i++ {
		rec, err := rr.next()
		if err != nil || rec.typ == recMesg {
			return -1
		}
		if rec.typ == recTime {
			return leadingInt(rec.data)
		}
	}
	return -1
}

// find returns the message queue that holds a complete file named id, or "".
func (s *Spool) find(id string) mqsql.Queue {
	for _, q := range showqQueues {
		f, err := s.root.Open(s.cfg.RelPath(string(q), id), false)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		err = unix.Fstat(int(f.Fd()), &st)
		f.Close()
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && complete(st.Mode) {
			return q
		}
	}
	return ""
}
