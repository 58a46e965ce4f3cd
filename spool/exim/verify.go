package exim

import (
	"fmt"

	"github.com/mqsql/mqsql"
)

// Check says why target t must not be acted on now, "" when it may: its -H must still be
// the file that was matched (same inode and arrival time; Exim replaces the -H on every
// change, so a message that was tried, frozen or edited since is skipped), and no delivery
// process may hold its lock (unless includeActive: exim's commands still refuse a locked
// message themselves).
func (s *Spool) Check(t mqsql.Target, includeActive bool) string {
	if !ValidQueueID(t.QueueID) || hpath(t.Path).id() != t.QueueID {
		return fmt.Sprintf("invalid target %q at %q", t.QueueID, t.Path)
	}
	st, err := s.state(hpath(t.Path))
	if err != nil {
		if where := s.find(t.QueueID); where != "" {
			return fmt.Sprintf("moved to %s since the plan was made", where)
		}
		return "gone: delivered, deleted or expired since the plan was made"
	}
	switch {
	case st.hst.Ino != t.Inode:
		return fmt.Sprintf("changed since the plan was made: Exim rewrote its -H (inode %d, was %d)", st.hst.Ino, t.Inode)
	case st.h != nil && st.h.received != t.ArrivalTime:
		return fmt.Sprintf("replaced: arrival time is %d, was %d", st.h.received, t.ArrivalTime)
	case st.queue == mqsql.Active && !includeActive:
		return "active: a delivery process holds it"
	}
	return ""
}

// find returns the path of message id's -H wherever Exim keeps it, "" when it is in none.
func (s *Spool) find(id string) string {
	for _, p := range s.Locations(id) {
		if _, err := s.root.Lstat(p.Path); err == nil {
			return p.Path
		}
	}
	return ""
}
