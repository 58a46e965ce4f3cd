package spoolgen

import (
	"strconv"
	"strings"
)

// DeferLog returns the defer log of m as the bounce daemon of Postfix 3.7 writes it (with
// backwards_bounce_logfile_compatibility = yes): per deferred recipient, an empty line, the
// old-style "<addr>: reason" line, then name=value lines and an empty line. offset= names the
// recipient's record, so Encode must have run. "" when no recipient was deferred.
func DeferLog(m *Message) string {
	var b strings.Builder
	for _, r := range m.Recipients {
		if r.Deferred && !r.Done {
			logEntry(&b, &r)
		}
	}
	return b.String()
}

func logEntry(b *strings.Builder, r *Recipient) {
	addr := quoteLocal(r.Address)
	field := func(name, value string) {
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	b.WriteString("\n<" + addr + ">: " + r.Reason + "\n")
	field("recipient", addr)
	if r.Orig != "" && !strings.EqualFold(r.Orig, r.Address) {
		field("original_recipient", quoteLocal(r.Orig))
	}
	field("offset", strconv.FormatInt(r.Offset, 10))
	if r.DSNOrig != "" {
		field("dsn_orig_rcpt", r.DSNOrig)
	}
	if r.NotifyFlags != 0 {
		field("notify_flags", strconv.Itoa(r.NotifyFlags))
	}
	field("status", r.DSNStatus)
	field("action", "delayed")
	if r.DiagType != "" && r.DiagText != "" {
		field("diag_type", r.DiagType)
		field("diag_text", r.DiagText)
	}
	if r.MTAName != "" {
		field("mta_type", "dns")
		field("mta_mname", r.MTAName)
	}
	field("reason", r.Reason)
	b.WriteByte('\n')
}
