package postfix

import "github.com/mqsql/mqsql"

// Defaults Postfix's log reader gives a defer-log entry that lacks the field.
const (
	defaultDeferStatus = "4.0.0"
	defaultReason      = "(description unavailable)"
)

// joinDeferLog attaches defer-log entries to the recipients they are about: by the logged
// record offset when there is one (exact, even for duplicate addresses), else by address.
// An entry matching no pending recipient is still something postqueue lists, so it becomes a
// pending recipient of its own.
func joinDeferLog(m *mqsql.Message, entries []LogEntry) {
	if len(entries) == 0 {
		return
	}
	find := newRecipientFinder(m.Recipients, len(entries))
	for _, e := range entries {
		i := find.index(m.Recipients, e)
		if i < 0 {
			m.Recipients = append(m.Recipients, mqsql.Recipient{
				Address:     mqsql.UnquoteLocal(e.Recipient),
				OrigAddress: mqsql.UnquoteLocal(e.OriginalRecipient),
				Status:      mqsql.Pending,
				Offset:      e.Offset,
			})
			i = len(m.Recipients) - 1
		}
		r := &m.Recipients[i]
		r.Deferred = true
		r.DelayReason = orDefault(e.Reason, defaultReason)
		r.DSNStatus = orDefault(e.Status, defaultDeferStatus)
		r.DiagText = e.DiagText
	}
}

// recipientFinder finds the recipient a log entry is about. For the usual few recipients
// and entries it scans; for more it indexes them once, so that a message with a hundred
// thousand recipients, all in the log, takes as many lookups rather than their square.
type recipientFinder struct {
	byOffset map[int64]int
	byAddr   map[string][]int // quoted address → pending recipients not yet matched, in order
}

// scanJoin is the number of recipient-entry pairs below which joinDeferLog just scans.
const scanJoin = 256

func newRecipientFinder(rs []mqsql.Recipient, entries int) *recipientFinder {
	if len(rs)*entries <= scanJoin {
		return &recipientFinder{}
	}
	f := &recipientFinder{byOffset: make(map[int64]int, len(rs)), byAddr: make(map[string][]int, len(rs))}
	for i := range rs {
		if rs[i].Status != mqsql.Pending {
			continue
		}
		if _, dup := f.byOffset[rs[i].Offset]; !dup {
			f.byOffset[rs[i].Offset] = i
		}
		q := mqsql.QuoteLocal(rs[i].Address)
		f.byAddr[q] = append(f.byAddr[q], i)
	}
	return f
}

func (f *recipientFinder) index(rs []mqsql.Recipient, e LogEntry) int {
	if f.byOffset == nil {
		return findRecipient(rs, e)
	}
	if e.Offset >= 0 {
		if i, ok := f.byOffset[e.Offset]; ok {
			return i
		}
	}
	list := f.byAddr[e.Recipient]
	for len(list) > 0 && rs[list[0]].Deferred {
		list = list[1:]
	}
	f.byAddr[e.Recipient] = list
	if len(list) == 0 {
		return -1
	}
	return list[0]
}

func findRecipient(rs []mqsql.Recipient, e LogEntry) int {
	if e.Offset >= 0 {
		for i := range rs {
			if rs[i].Offset == e.Offset && rs[i].Status == mqsql.Pending {
				return i
			}
		}
	}
	for i := range rs {
		if rs[i].Status == mqsql.Pending && !rs[i].Deferred && mqsql.QuoteLocal(rs[i].Address) == e.Recipient {
			return i
		}
	}
	return -1
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
