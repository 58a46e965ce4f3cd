package postfix

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/syslogline"
)

var _ mqsql.LogReader = (*Driver)(nil)

// LogFiles names Postfix's own log file (postconf -h maillog_file, written by postlogd since
// Postfix 3.4), none when Postfix logs to syslog or postconf cannot be asked.
func (d *Driver) LogFiles(ctx context.Context) []string {
	path, err := exec.LookPath("postconf")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, path, "-h", "maillog_file").Output()
	if err != nil {
		return nil
	}
	if f := strings.TrimSpace(string(out)); strings.HasPrefix(f, "/") {
		return []string{f}
	}
	return nil // empty, or /dev/stdout
}

// LogParser implements mqsql.LogReader.
func (d *Driver) LogParser(dating mqsql.LogDating) mqsql.LogParser {
	return &logParser{dating: dating}
}

// logParser reads Postfix's lines: "STAMP HOST SYSLOG_NAME/DAEMON[PID]: QUEUEID: TEXT".
type logParser struct {
	dating mqsql.LogDating
}

// deliveryAgents are the daemons that log a recipient's status= (the delivery agents of
// master.cf's default services).
var deliveryAgents = map[string]bool{
	"smtp": true, "lmtp": true, "local": true, "virtual": true, "pipe": true,
	"error": true, "retry": true, "discard": true,
}

// Parse implements mqsql.LogParser.
func (p *logParser) Parse(line []byte, out []mqsql.LogRecord) ([]mqsql.LogRecord, error) {
	l, ok := syslogline.Parse(line, p.dating)
	if !ok {
		return out, nil
	}
	slash := bytes.IndexByte(l.Program, '/')
	if slash <= 0 {
		return out, nil // not a Postfix program
	}
	daemon := l.Program[bytes.LastIndexByte(l.Program, '/')+1:]
	id, text, ok := queueIDPrefix(l.Msg)
	if !ok {
		return out, nil // NOQUEUE, connect from, warnings, statistics
	}
	rec := mqsql.LogRecord{Time: l.Time, QueueID: id, Host: string(l.Host), Instance: string(l.Program[:slash])}
	switch string(daemon) {
	case "qmgr":
		return qmgrLine(rec, text, out)
	case "smtpd", "postscreen":
		return smtpdLine(rec, text, out), nil
	case "cleanup":
		return cleanupLine(rec, text, out), nil
	case "pickup":
		return pickupLine(rec, text, out), nil
	case "postsuper":
		return postsuperLine(rec, text, out), nil
	}
	if deliveryAgents[string(daemon)] && bytes.HasPrefix(text, []byte("to=<")) {
		return agentLine(rec, text, out)
	}
	return out, nil
}

// queueIDPrefix splits "QUEUEID: text".
func queueIDPrefix(msg []byte) (string, []byte, bool) {
	i := bytes.Index(msg, []byte(": "))
	if i <= 0 || i > 255 || !ValidQueueID(string(msg[:i])) {
		return "", nil, false
	}
	return string(msg[:i]), msg[i+2:], true
}

// agentLine reads a delivery agent's "to=<r>, [orig_to=<o>,] relay=R, delay=D, delays=...,
// dsn=X.Y.Z, status=WORD (text)".
func agentLine(rec mqsql.LogRecord, text []byte, out []mqsql.LogRecord) ([]mqsql.LogRecord, error) {
	i := bytes.Index(text, []byte(", status="))
	if i < 0 {
		return out, &mqsql.LogLineError{Reason: "delivery line without status="}
	}
	word, resp, _ := bytes.Cut(text[i+len(", status="):], []byte(" "))
	status, keep := agentStatus(string(word))
	if !keep {
		return out, nil
	}
	if status == "" {
		return out, &mqsql.LogLineError{Reason: "unknown status=" + string(word)}
	}
	rec.Kind = mqsql.LogDelivery
	to, _ := syslogline.Field(text, "to")
	rec.Delivery = mqsql.Delivery{
		Recipient: string(syslogline.Unbracket(to)), Status: status, Delay: -1,
		Response: string(parenthesised(resp)),
	}
	if o, ok := syslogline.Field(text, "orig_to"); ok {
		rec.Delivery.OrigRecipient = string(syslogline.Unbracket(o))
	}
	if r, ok := syslogline.Field(text, "relay"); ok {
		rec.Delivery.Relay = string(r)
	}
	if dl, ok := syslogline.Field(text, "delay"); ok {
		if f, err := strconv.ParseFloat(string(dl), 64); err == nil {
			rec.Delivery.Delay = f
		}
	}
	if dsn, ok := syslogline.Field(text, "dsn"); ok {
		rec.Delivery.DSN = string(dsn)
	}
	return append(out, rec), nil
}

// parenthesised is the response after a status word, "(text)" to the line's end (it may
// hold ", "), without its parentheses.
func parenthesised(after []byte) []byte {
	if len(after) >= 2 && after[0] == '(' && after[len(after)-1] == ')' {
		return after[1 : len(after)-1]
	}
	return after
}

// agentStatus maps a status= word to the deliveries status; keep is false for the address
// verification results (deliverable, undeliverable), which are probes, not deliveries.
func agentStatus(word string) (status string, keep bool) {
	switch word {
	case "sent":
		return mqsql.StatusSent, true
	case "deferred", "SOFTBOUNCE":
		return mqsql.StatusDeferred, true
	case "bounced":
		return mqsql.StatusBounced, true
	case "expired":
		return mqsql.StatusExpired, true
	case "deliverable", "undeliverable":
		return "", false
	}
	return "", true
}

// qmgrLine reads qmgr's "from=<s>, size=N, nrcpt=N (queue active)", "removed" and
// "from=<s>, status=expired, returned to sender" (force-expired after postsuper -e): the
// expiry is a deliveries row without a recipient, since qmgr logs it for the message.
func qmgrLine(rec mqsql.LogRecord, text []byte, out []mqsql.LogRecord) ([]mqsql.LogRecord, error) {
	if string(text) == "removed" {
		return append(out, removedRecord(rec)), nil
	}
	from, ok := syslogline.Field(text, "from")
	if !ok {
		return out, nil // "skipped, still being delivered" and the like
	}
	m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
	m.Host, m.Instance = rec.Host, rec.Instance
	m.Message.Sender, m.Message.HasSender = string(syslogline.Unbracket(from)), true
	if st, ok := syslogline.Field(text, "status"); ok {
		if string(st) != "expired" && string(st) != "force-expired" {
			return out, &mqsql.LogLineError{Reason: "qmgr status=" + string(st)}
		}
		rec.Kind = mqsql.LogDelivery
		_, resp, _ := bytes.Cut(text, []byte("status="))
		rec.Delivery = mqsql.Delivery{Status: mqsql.StatusExpired, Delay: -1, Response: string(resp)}
		return append(out, m, rec), nil
	}
	m.Message.Size = intField(text, "size")
	m.Message.Nrcpt = intField(text, "nrcpt")
	return append(out, m), nil
}

// intField is a numeric field's value, -1 when absent or not a number.
func intField(text []byte, key string) int64 {
	v, ok := syslogline.Field(text, key)
	if !ok {
		return -1
	}
	v, _, _ = bytes.Cut(v, []byte(" "))
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// smtpdLine reads "client=name[addr][:port][, sasl_method=M, sasl_username=U]".
func smtpdLine(rec mqsql.LogRecord, text []byte, out []mqsql.LogRecord) []mqsql.LogRecord {
	c, ok := syslogline.Field(text, "client")
	if !ok {
		return out
	}
	m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
	m.Host, m.Instance = rec.Host, rec.Instance
	if open := bytes.LastIndexByte(c, '['); open >= 0 {
		if end := bytes.IndexByte(c[open:], ']'); end > 0 {
			m.Message.ClientAddress = string(c[open+1 : open+end])
		}
	}
	if u, ok := syslogline.Field(text, "sasl_username"); ok {
		m.Message.SASLUsername = string(u)
	}
	return append(out, m)
}

// cleanupLine reads "message-id=<id>".
func cleanupLine(rec mqsql.LogRecord, text []byte, out []mqsql.LogRecord) []mqsql.LogRecord {
	v, ok := bytes.CutPrefix(text, []byte("message-id="))
	if !ok {
		return out
	}
	m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
	m.Host, m.Instance = rec.Host, rec.Instance
	m.Message.MessageID = string(v)
	return append(out, m)
}

// pickupLine reads "uid=N from=<s>": the sender of mail submitted with sendmail, known before
// qmgr sees the message (which it never does for mail deleted or held first).
func pickupLine(rec mqsql.LogRecord, text []byte, out []mqsql.LogRecord) []mqsql.LogRecord {
	from, ok := syslogline.Field(text, "from")
	if !ok {
		return out
	}
	m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
	m.Host, m.Instance = rec.Host, rec.Instance
	m.Message.Sender, m.Message.HasSender = string(syslogline.Unbracket(from)), true
	return append(out, m)
}

// postsuperLine reads "removed" (postsuper -d); its "expired", "placed on hold" and
// "requeued" change no row.
func postsuperLine(rec mqsql.LogRecord, text []byte, out []mqsql.LogRecord) []mqsql.LogRecord {
	if string(text) == "removed" {
		return append(out, removedRecord(rec))
	}
	return out
}

// removedRecord is the record of a message that left the queue.
func removedRecord(rec mqsql.LogRecord) mqsql.LogRecord {
	m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
	m.Host, m.Instance = rec.Host, rec.Instance
	m.Message.Removed = true
	return m
}
