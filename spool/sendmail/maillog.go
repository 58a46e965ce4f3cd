package sendmail

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/syslogline"
)

var _ mqsql.LogReader = (*Driver)(nil)

// LogFiles is none: Sendmail logs only through syslog (facility mail), whose file the
// syslog daemon's configuration names, not Sendmail's.
func (d *Driver) LogFiles(ctx context.Context) []string { return nil }

// LogParser implements mqsql.LogReader.
func (d *Driver) LogParser(dating mqsql.LogDating) mqsql.LogParser {
	return &logParser{dating: dating}
}

// logParser reads Sendmail's syslog lines: "STAMP HOST sm-mta[PID]: QUEUEID: from=..." and
// "QUEUEID: to=..., stat=...".
type logParser struct {
	dating mqsql.LogDating
}

// Parse implements mqsql.LogParser.
func (p *logParser) Parse(line []byte, out []mqsql.LogRecord) ([]mqsql.LogRecord, error) {
	l, ok := syslogline.Parse(line, p.dating)
	if !ok || !(string(l.Program) == "sendmail" || bytes.HasPrefix(l.Program, []byte("sm-"))) {
		return out, nil
	}
	i := bytes.Index(l.Msg, []byte(": "))
	if i <= 0 || !ValidQueueID(string(l.Msg[:i])) {
		return out, nil
	}
	rec := mqsql.LogRecord{Time: l.Time, QueueID: string(l.Msg[:i]), Host: string(l.Host)}
	text := l.Msg[i+2:]
	switch {
	case bytes.HasPrefix(text, []byte("from=")):
		return append(out, fromLine(rec, text)), nil
	case bytes.HasPrefix(text, []byte("to=")):
		return toLine(rec, text, out)
	case bytes.HasPrefix(text, []byte("AUTH=server")):
		m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
		m.Host = rec.Host
		if u, ok := syslogline.Field(text, "authid"); ok {
			m.Message.SASLUsername = string(u)
		}
		return append(out, m), nil
	}
	return out, nil
}

// fromLine reads "from=<s>, size=N, class=0, nrcpts=N, msgid=<id>, proto=P, daemon=D,
// relay=name [addr]".
func fromLine(rec mqsql.LogRecord, text []byte) mqsql.LogRecord {
	m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
	m.Host = rec.Host
	from, _ := syslogline.Field(text, "from")
	m.Message.Sender, m.Message.HasSender = string(syslogline.Unbracket(from)), true
	m.Message.Size = intField(text, "size")
	m.Message.Nrcpt = intField(text, "nrcpts")
	if id, ok := syslogline.Field(text, "msgid"); ok {
		m.Message.MessageID = string(id)
	}
	if r, ok := syslogline.Field(text, "relay"); ok {
		if open := bytes.LastIndexByte(r, '['); open >= 0 && r[len(r)-1] == ']' {
			m.Message.ClientAddress = string(r[open+1 : len(r)-1])
		}
	}
	return m
}

// intField is a numeric field's value, -1 when absent or not a number.
func intField(text []byte, key string) int64 {
	v, ok := syslogline.Field(text, key)
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// toLine reads "to=R1[,R2...], [ctladdr=...,] delay=D, xdelay=X, mailer=M, pri=P,
// [relay=R,] [dsn=X.Y.Z,] stat=TEXT": one delivery row per recipient listed. "stat=queued"
// (mail accepted for a later queue run) is no attempt and adds nothing.
func toLine(rec mqsql.LogRecord, text []byte, out []mqsql.LogRecord) ([]mqsql.LogRecord, error) {
	i := bytes.Index(text, []byte(", stat="))
	if i < 0 {
		return out, &mqsql.LogLineError{Reason: "to= line without stat="}
	}
	stat := string(text[i+len(", stat="):])
	dsn, _ := syslogline.Field(text, "dsn")
	status := statStatus(stat, string(dsn))
	switch status {
	case "queued":
		return out, nil
	case "":
		return out, &mqsql.LogLineError{Reason: "stat=" + stat}
	}
	rec.Kind = mqsql.LogDelivery
	rec.Delivery = mqsql.Delivery{Status: status, DSN: string(dsn), Response: stat, Delay: -1}
	if r, ok := syslogline.Field(text[:i], "relay"); ok {
		rec.Delivery.Relay = string(r)
	}
	if d, ok := syslogline.Field(text, "delay"); ok {
		rec.Delivery.Delay = sendmailDelay(string(d))
	}
	to, _ := syslogline.Field(text, "to")
	for _, r := range splitRecipients(to) {
		rec.Delivery.Recipient = r
		out = append(out, rec)
	}
	return out, nil
}

// statStatus maps stat= (and dsn=) to a deliveries status, "queued" for no attempt, "" when
// it says nothing known.
func statStatus(stat, dsn string) string {
	switch {
	case strings.HasPrefix(stat, "Sent"):
		return mqsql.StatusSent
	case stat == "queued":
		return "queued"
	case dsn == "4.4.7":
		return mqsql.StatusExpired
	case strings.HasPrefix(stat, "Deferred"), strings.HasPrefix(dsn, "4."):
		return mqsql.StatusDeferred
	case strings.HasPrefix(dsn, "5."):
		return mqsql.StatusBounced
	}
	return ""
}

// sendmailDelay reads "HH:MM:SS" or "D+HH:MM:SS" as seconds, -1 when it is neither.
func sendmailDelay(v string) float64 {
	days := 0
	if d, rest, ok := strings.Cut(v, "+"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return -1
		}
		days, v = n, rest
	}
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return -1
	}
	total := float64(days * 86400)
	for i, mult := range []float64{3600, 60, 1} {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return -1
		}
		total += float64(n) * mult
	}
	return total
}

// splitRecipients splits "<a@x>,<b@y>" (or without brackets) at the commas outside angle
// brackets and quotes, and drops the brackets.
func splitRecipients(v []byte) []string {
	var out []string
	depth, quoted, from := 0, false, 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			switch c := v[i]; {
			case c == '"':
				quoted = !quoted
			case c == '<' && !quoted:
				depth++
			case c == '>' && !quoted && depth > 0:
				depth--
			}
			if v[i] != ',' || depth > 0 || quoted {
				continue
			}
		}
		if r := address(bytes.TrimSpace(v[from:i])); len(r) > 0 {
			out = append(out, string(r))
		}
		from = i + 1
	}
	return out
}

// address is the address of a recipient as Sendmail logs it: "a@b", "<a@b>" or, with a
// display name, "Name <a@b>".
func address(v []byte) []byte {
	if open := bytes.LastIndexByte(v, '<'); open >= 0 && v[len(v)-1] == '>' {
		return v[open+1 : len(v)-1]
	}
	return v
}
