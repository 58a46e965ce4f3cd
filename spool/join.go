package spool

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
	for _, e := range entries {
		i := findRecipient(m.Recipients, e)
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
