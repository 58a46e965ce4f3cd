package exim

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// Details is what Exim keeps of a message beyond mqsql.Message: the named queue and frozen
// reason (also in Message.QueueName and, while frozen, Message.HoldReason) and the frozen
// state's time, which tests compare with exim -bp.
type Details struct {
	// NamedQueue is the named queue (exim -MG, the ACL queue modifier), "" for the default.
	NamedQueue string
	// FrozenSince is the -frozen line's time, 0 when not frozen.
	FrozenSince int64
	// FrozenReason is the reason of the last "*** Frozen (…)" line of the msglog, when that
	// line is about the present freeze; "" when the message is not frozen, when Exim wrote none (an admin's exim -Mf writes
	// only to the main log) or when the msglog was last written before the -frozen time (a
	// reason left from an earlier freeze, thawed since, before an admin's -Mf).
	FrozenReason string
}

// Read reads the message of e; see ReadWithin.
func (s *Spool) Read(e mqsql.Entry) (*mqsql.Message, error) { return s.ReadWithin(e, nil) }

// ReadWithin reads the message whose -H is at e.File.Path, with its -D, -J and msglog.
// Problems with the files' content go in Message.Error (queue corrupt); the error is
// mqsql.ErrGone when the -H is no longer there (delivered, or rewritten since e was listed
// and e named its old inode), or a failure to open.
func (s *Spool) ReadWithin(e mqsql.Entry, budget *mqsql.RecipientBudget) (*mqsql.Message, error) {
	m, _, err := s.ReadDetails(e, budget)
	return m, err
}

// ReadDetails is ReadWithin that also returns the message's Details.
func (s *Spool) ReadDetails(e mqsql.Entry, budget *mqsql.RecipientBudget) (*mqsql.Message, Details, error) {
	h := hpath(e.File.Path)
	st, err := s.state(h)
	if err != nil {
		return nil, Details{}, err
	}
	m := st.message()
	d := Details{NamedQueue: h.namedQueue()}
	if st.h != nil {
		d.FrozenSince, _ = strconv.ParseInt(st.h.options["frozen"], 10, 64)
		if err := s.addRecipients(m, st, budget); err != nil {
			if errors.Is(err, mqsql.ErrBudgetCanceled) {
				return nil, d, err
			}
			m.Error = err.Error()
		}
	}
	reason := s.joinMsglog(m, h)
	if d.FrozenSince > 0 || m.Queue == mqsql.Hold {
		d.FrozenReason = currentFreeze(reason, d.FrozenSince, m.File.Log.ModTimeNanos)
	}
	m.QueueName = d.NamedQueue
	if m.Queue == mqsql.Hold {
		m.HoldReason = d.FrozenReason
	}
	m.Listed = listed(m)
	return m, d, nil
}

// currentFreeze is reason, the msglog's last frozen reason, when it belongs to the freeze
// that began at frozenSince (the -frozen time, 0 when unknown), "" when it is older. A
// delivery that freezes a message sets the -frozen time first and writes the msglog line
// after it; an admin's exim -Mf, after a thaw, sets a later -frozen time and leaves the
// msglog as it was, with the thawed freeze's reason in it.
func currentFreeze(reason string, frozenSince, logModTimeNanos int64) string {
	if frozenSince > 0 && logModTimeNanos/1e9 < frozenSince {
		return ""
	}
	return reason
}

// hstate is one look at a message: its -H parsed (nil when it does not parse), its files'
// status, and the queue that makes it.
type hstate struct {
	path  hpath
	id    string
	h     *hfile
	hst   unix.Stat_t
	dsize int64 // -1 when the -D is missing
	// locked is set while a delivery process holds the -D lock.
	locked bool
	queue  mqsql.Queue
	err    error // why the message is corrupt
}

// state reads and parses the -H at h and looks at its -D: everything the queue column needs.
func (s *Spool) state(h hpath) (*hstate, error) {
	id := h.id()
	if !ValidQueueID(id) {
		return nil, mqsql.ErrGone
	}
	data, hst, err := readFile(s.root, string(h))
	if err != nil {
		return nil, s.hfileErr(h, err)
	}
	st := &hstate{path: h, id: id, hst: hst, dsize: -1}
	st.h, st.err = parseH(data, id)
	locked, dsize, derr := s.dataFile(h)
	if ue := (*mqsql.UnreadableError)(nil); errors.As(derr, &ue) {
		return nil, derr // whether the -D is there is not known: the message is not corrupt
	}
	if derr != nil && s.vanished(h, hst.Ino) {
		// Exim removes a finished or deleted message's -D just before its -H: a -H without
		// -D that is gone a moment later was a message leaving, not a corrupt one.
		return nil, mqsql.ErrGone
	}
	st.dsize, st.locked = dsize, locked
	switch {
	case derr != nil:
		st.queue, st.err = mqsql.Corrupt, derr
	case st.h == nil:
		st.queue = mqsql.Corrupt
	case locked:
		st.queue = mqsql.Active
	case h.frozenAside() || st.h.has("frozen"):
		st.queue = mqsql.Hold
	case st.h.has("deliver_firsttime"):
		st.queue = mqsql.Incoming
	default:
		st.queue = mqsql.Deferred
	}
	return st, nil
}

// hfileErr is what a failure to read the -H at h means to a walk and a reader: ErrGone when
// it is not there (a link in its place is warned about, and no part of the spool), the error
// itself for a file that is no regular file, and an *mqsql.UnreadableError when it could not
// be read (too many open files, an I/O error, permission), which keeps its row.
func (s *Spool) hfileErr(h hpath, err error) error {
	switch {
	case errors.Is(err, saferoot.ErrSymlink):
		s.warn(fmt.Errorf("skip %s: %w", h, err))
		return mqsql.ErrGone
	case mqsql.Absent(err):
		return mqsql.ErrGone
	case errors.Is(err, errNotRegular):
		return err
	}
	return mqsql.Unreadable(string(h), openErr(string(h), err))
}

// vanished reports whether the -H at h is no longer the file with inode ino. A -H that could
// not be looked at has not vanished.
func (s *Spool) vanished(h hpath, ino uint64) bool {
	st, err := s.root.Lstat(string(h))
	if err != nil {
		return mqsql.Absent(err)
	}
	return st.Ino != ino
}

// has reports whether the -H has the option line name.
func (h *hfile) has(name string) bool { _, ok := h.options[name]; return ok }

// dataFile opens the message's -D (never for writing) and tests, without taking it, whether a
// delivery process holds Exim's lock on its first line. It returns the -D's size.
func (s *Spool) dataFile(h hpath) (locked bool, size int64, err error) {
	rel := h.sibling("D")
	fd, err := s.root.OpenReadFD(rel, false)
	if errors.Is(err, fs.ErrNotExist) {
		return false, -1, fmt.Errorf("spool data file %s does not exist", rel)
	}
	if err != nil && !mqsql.Absent(err) {
		return false, -1, mqsql.Unreadable(rel, openErr(rel, err))
	}
	if err != nil {
		return false, -1, fmt.Errorf("open %s: %w", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, -1, fmt.Errorf("%s: not a regular file", rel)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: dataStart(h.id())}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &lk); err != nil {
		return false, st.Size, fmt.Errorf("test lock of %s: %w", rel, err)
	}
	return lk.Type != unix.F_UNLCK, st.Size, nil
}

// fileInfo is the FileInfo of a message: its -H's path, inode, mode and mtime (the -H is
// replaced by rename on every change, so these change with the message), the size of -H
// and -D together, and whether a delivery holds the -D's lock (Stamp.Locked), which changes
// the message (it is active) although no file changed.
func (st *hstate) fileInfo() mqsql.FileInfo {
	size := st.hst.Size
	if st.dsize > 0 {
		size += st.dsize
	}
	return mqsql.FileInfo{Path: string(st.path), Stamp: mqsql.Stamp{
		Size: size, Inode: st.hst.Ino, Mode: st.hst.Mode & 0o7777,
		ModTimeNanos: nanos(st.hst.Mtim), Log: mqsql.NoLog, Locked: st.locked,
	}}
}

// entry is the walk's Entry of the message.
func (st *hstate) entry() mqsql.Entry {
	return mqsql.Entry{Queue: st.queue, QueueID: st.id, File: st.fileInfo(), QueueName: st.path.namedQueue()}
}

// message is the message's row without recipients.
func (st *hstate) message() *mqsql.Message {
	m := &mqsql.Message{QueueID: st.id, Queue: st.queue, File: st.fileInfo(), ArrivalTime: st.hst.Mtim.Sec}
	if st.err != nil {
		m.Error = st.err.Error()
	}
	h := st.h
	if h == nil {
		m.Size = m.File.Size
		return m
	}
	m.ArrivalTime, m.Sender = h.received, h.sender
	m.Size = h.size(st.dsize, st.id)
	m.ClientAddress = hostAddress(h.options["host_address"])
	m.HeloName = h.options["helo_name"]
	if h.has("host_auth") {
		m.SASLUsername = h.options["auth_id"]
	}
	m.Subject, _ = h.header("Subject")
	m.FromHeader, _ = h.header("From")
	m.MessageID, _ = h.header("Message-ID")
	return m
}

// size is the size exim -bp prints: the header lengths Exim summed as it read them, the
// body, and the blank line between them.
func (h *hfile) size(dsize int64, id string) int64 {
	n := h.headerSize
	if dsize >= 0 {
		n += dsize - dataStart(id)
	}
	return n + 1
}

// hostAddress is -host_address without brackets and port: "[192.0.2.10]:40123" (or an old
// spool's "192.0.2.10.40123") is "192.0.2.10".
func hostAddress(v string) string {
	if strings.HasPrefix(v, "[") {
		if i := strings.IndexByte(v, ']'); i > 0 {
			return v[1:i]
		}
	}
	if strings.Count(v, ".") == 4 {
		return v[:strings.LastIndexByte(v, '.')]
	}
	return v
}

// addRecipients adds the -H's recipient lines, done when the non-recipients tree or the
// journal has their exact address.
func (s *Spool) addRecipients(m *mqsql.Message, st *hstate, budget *mqsql.RecipientBudget) error {
	done := map[string]bool{}
	for _, a := range st.h.nonrcpt {
		done[a] = true
	}
	if j, _, err := readFile(s.root, st.path.sibling("J")); err == nil {
		for _, a := range bytes.Split(j, []byte("\n")) {
			done[string(a)] = true
		}
	}
	m.Recipients = make([]mqsql.Recipient, 0, mqsql.RecipientHint(len(st.h.recipients)))
	for i, r := range st.h.recipients {
		if err := budget.Admit(m); err != nil {
			return err
		}
		status := mqsql.Pending
		if done[r.address] {
			status = mqsql.Done
		}
		m.Recipients = append(m.Recipients, mqsql.Recipient{
			Address: r.address, OrigAddress: origAddress(r.orcpt), Status: status, Offset: int64(i),
		})
	}
	return nil
}

// joinMsglog joins the msglog's deferrals to the pending recipients and records its stamp;
// it returns the frozen reason it found.
func (s *Spool) joinMsglog(m *mqsql.Message, h hpath) string {
	data, st, err := readFile(s.root, h.msglog())
	if err != nil {
		return ""
	}
	m.File.Log = mqsql.LogStamp{Size: st.Size, ModTimeNanos: nanos(st.Mtim)}
	pending := map[string]int{}
	for i, r := range m.Recipients {
		if r.Status == mqsql.Pending {
			pending[r.Address] = i
		}
	}
	ml := parseMsglog(data, func(a string) bool { _, ok := pending[a]; return ok }, len(pending))
	for addr, d := range ml.defers {
		for i := range m.Recipients {
			r := &m.Recipients[i]
			if r.Address == addr && r.Status == mqsql.Pending {
				r.Deferred, r.DelayReason, r.DSNStatus, r.DiagText = true, d.reason, d.dsn, d.diag
			}
		}
	}
	return ml.frozen
}
