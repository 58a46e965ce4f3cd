package exim

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
)

var _ mqsql.LogReader = (*Driver)(nil)

// LogFiles names Exim's main log from its log_file_path (exim -bP log_file_path): each
// path of the colon-separated list that is a file, with %s as "main"; none when Exim logs
// to syslog only or cannot be asked.
func (d *Driver) LogFiles(ctx context.Context) []string {
	bin, err := (&Executor{}).binary()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-bP", "log_file_path").Output()
	if err != nil {
		return nil
	}
	return mainLogs(string(out))
}

// mainLogs reads "log_file_path = /var/log/exim4/%slog : syslog".
func mainLogs(answer string) []string {
	_, v, _ := strings.Cut(strings.TrimSpace(answer), "=")
	var files []string
	for _, p := range strings.Split(v, ":") {
		if p = strings.TrimSpace(p); strings.HasPrefix(p, "/") {
			files = append(files, strings.Replace(p, "%s", "main", 1))
		}
	}
	return files
}

// LogParser implements mqsql.LogReader.
func (d *Driver) LogParser(dating mqsql.LogDating) mqsql.LogParser {
	loc := dating.Loc
	if loc == nil {
		loc = time.UTC
	}
	return &logParser{loc: loc}
}

// logParser reads Exim's mainlog: "YYYY-MM-DD HH:MM:SS[.mmm] [+ZONE] [[PID]] ID FLAG ...",
// the stamp in the local zone unless log_timezone adds one.
type logParser struct {
	loc *time.Location
}

// Parse implements mqsql.LogParser.
func (p *logParser) Parse(line []byte, out []mqsql.LogRecord) ([]mqsql.LogRecord, error) {
	t, rest, ok := p.stamp(line)
	if !ok {
		return out, nil // a continuation line ("Suggested action: ...") or not Exim's
	}
	rest = skipPID(rest)
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 || !ValidQueueID(string(rest[:sp])) {
		return out, nil // a line about no message
	}
	rec := mqsql.LogRecord{Time: t, QueueID: string(rest[:sp])}
	text := rest[sp+1:]
	flag, args, _ := bytes.Cut(text, []byte(" "))
	switch string(flag) {
	case "<=":
		return append(out, arrival(rec, args)), nil
	case "=>", "->":
		return delivery(rec, mqsql.StatusSent, args, out)
	case "==":
		return delivery(rec, mqsql.StatusDeferred, args, out)
	case "**":
		return delivery(rec, mqsql.StatusBounced, args, out)
	case "Completed":
		m := mqsql.NewLogMessage(t, rec.QueueID)
		m.Message.Removed = true
		return append(out, m), nil
	}
	return out, nil
}

// stamp reads "YYYY-MM-DD HH:MM:SS[.fff] [+hhmm] ".
func (p *logParser) stamp(line []byte) (float64, []byte, bool) {
	if len(line) < 20 || line[4] != '-' || line[10] != ' ' || line[13] != ':' {
		return 0, nil, false
	}
	end := 19
	for end < len(line) && (line[end] == '.' || line[end] >= '0' && line[end] <= '9') {
		end++
	}
	layout := "2006-01-02 15:04:05"
	if end > 19 {
		layout += ".000000000"[:end-19]
	}
	rest := line[end:]
	loc := p.loc
	if len(rest) > 6 && rest[0] == ' ' && (rest[1] == '+' || rest[1] == '-') && rest[6] == ' ' {
		if z, err := time.Parse("-0700", string(rest[1:6])); err == nil {
			loc = z.Location()
			rest = rest[6:]
		}
	}
	tm, err := time.ParseInLocation(layout, string(line[:end]), loc)
	if err != nil || len(rest) == 0 || rest[0] != ' ' {
		return 0, nil, false
	}
	return float64(tm.Unix()) + float64(tm.Nanosecond())/1e9, rest[1:], true
}

// skipPID drops "[pid] " (log_selector +pid) and "[n/m] " (a line split for length).
func skipPID(b []byte) []byte {
	for len(b) > 0 && b[0] == '[' {
		end := bytes.IndexByte(b, ']')
		if end < 0 || end+1 >= len(b) || b[end+1] != ' ' {
			return b
		}
		b = b[end+2:]
	}
	return b
}

// arrival reads "<= SENDER ... H=name [addr]:port ... A=authenticator:id ... S=size
// id=message-id ... for R1 R2".
func arrival(rec mqsql.LogRecord, args []byte) mqsql.LogRecord {
	m := mqsql.NewLogMessage(rec.Time, rec.QueueID)
	sender, rest, _ := bytes.Cut(args, []byte(" "))
	if string(sender) != "<>" {
		m.Message.Sender = string(sender)
	}
	m.Message.HasSender = true
	if i := bytes.Index(rest, []byte(" for ")); i >= 0 {
		m.Message.Nrcpt = int64(len(bytes.Fields(rest[i+5:])))
		rest = rest[:i]
	}
	for _, f := range bytes.Fields(rest) {
		switch {
		case bytes.HasPrefix(f, []byte("S=")):
			if n, err := strconv.ParseInt(string(f[2:]), 10, 64); err == nil {
				m.Message.Size = n
			}
		case bytes.HasPrefix(f, []byte("id=")):
			m.Message.MessageID = "<" + string(f[3:]) + ">"
		case bytes.HasPrefix(f, []byte("A=")):
			m.Message.SASLUsername = authID(f[2:])
		case m.Message.ClientAddress == "" && len(f) > 2 && f[0] == '[' && bytes.Contains(rest, []byte("H=")):
			if end := bytes.IndexByte(f, ']'); end > 1 {
				m.Message.ClientAddress = string(f[1:end])
			}
		}
	}
	return m
}

// authID is the authenticated ID of "A=name:id" (or "A=name:id:<sender>"), "" when the
// authenticator set none.
func authID(v []byte) string {
	_, id, ok := bytes.Cut(v, []byte(":"))
	if !ok {
		return ""
	}
	if i := bytes.Index(id, []byte(":<")); i >= 0 {
		id = id[:i]
	}
	return string(id)
}

// delivery reads "=> ADDR [<ORIG>] [(parent)] F=<..> R=router T=transport H=host [addr] ...
// C="response" QT=t DT=t" and the same shape after ==, ** and ->, whose response follows
// the fields after ": " (== ... defer (111): Connection refused; ** ...: mailbox unavailable).
func delivery(rec mqsql.LogRecord, status string, args []byte, out []mqsql.LogRecord) ([]mqsql.LogRecord, error) {
	addr, rest, _ := bytes.Cut(args, []byte(" "))
	if len(addr) == 0 {
		return out, &mqsql.LogLineError{Reason: "delivery line without an address"}
	}
	rec.Kind = mqsql.LogDelivery
	d := mqsql.Delivery{Recipient: string(bytes.TrimSuffix(addr, []byte(":"))), Status: status, Delay: -1}
	if len(rest) > 0 && rest[0] == '<' {
		if end := bytes.IndexByte(rest, '>'); end > 0 {
			d.OrigRecipient = string(rest[1:end])
		}
	}
	d.Relay = relayOf(rest)
	d.Delay = durationField(rest, "QT=")
	if d.Delay < 0 {
		d.Delay = durationField(rest, "DT=")
	}
	d.Response = responseOf(addr, rest)
	if status == mqsql.StatusBounced && strings.Contains(d.Response, "retry timeout exceeded") {
		d.Status = mqsql.StatusExpired
	}
	rec.Delivery = d
	return append(out, rec), nil
}

// relayOf is "H=host [addr]" as "host[addr]", else the transport (T=name).
func relayOf(rest []byte) string {
	if i := bytes.Index(rest, []byte(" H=")); i >= 0 {
		f := bytes.Fields(rest[i+3:])
		if len(f) > 1 && f[1][0] == '[' {
			return string(f[0]) + string(bytes.TrimRight(f[1], ":"))
		}
		return string(f[0])
	}
	if i := bytes.Index(rest, []byte("T=")); i >= 0 && (i == 0 || rest[i-1] == ' ') {
		f, _, _ := bytes.Cut(rest[i+2:], []byte(" "))
		return string(bytes.TrimRight(f, ":"))
	}
	return ""
}

// responseOf is what Exim says of the attempt: C="..." for a delivery, the text after the
// fields' ": " for a deferral or failure (without the DT= that may follow it).
func responseOf(addr, rest []byte) string {
	if i := bytes.Index(rest, []byte(`C="`)); i >= 0 {
		v := rest[i+3:]
		if end := bytes.LastIndexByte(v, '"'); end >= 0 {
			return string(v[:end])
		}
	}
	var text []byte
	if bytes.HasSuffix(addr, []byte(":")) {
		text = rest
	} else if i := bytes.Index(rest, []byte(": ")); i >= 0 {
		text = rest[i+2:]
	} else {
		return ""
	}
	if i := bytes.Index(text, []byte(" DT=")); i >= 0 {
		text = text[:i]
	}
	return string(bytes.TrimPrefix(text, []byte("DT=")))
}

// durationField reads Exim's "QT=1m18s" / "DT=0.004s" as seconds, -1 when absent.
func durationField(rest []byte, key string) float64 {
	i := bytes.Index(rest, []byte(key))
	if i < 0 || (i > 0 && rest[i-1] != ' ') {
		return -1
	}
	v, _, _ := bytes.Cut(rest[i+len(key):], []byte(" "))
	v = bytes.TrimRight(v, ":")
	total, from := 0.0, 0
	for i, c := range v {
		if c >= '0' && c <= '9' || c == '.' {
			continue
		}
		n, err := strconv.ParseFloat(string(v[from:i]), 64)
		if err != nil || unitSeconds(c) == 0 {
			return -1
		}
		total += n * unitSeconds(c)
		from = i + 1
	}
	if from != len(v) {
		return -1
	}
	return total
}

// unitSeconds is the length of one of Exim's time units (s, m, h, d, w), 0 for another byte.
func unitSeconds(c byte) float64 {
	switch c {
	case 's':
		return 1
	case 'm':
		return 60
	case 'h':
		return 3600
	case 'd':
		return 86400
	case 'w':
		return 604800
	}
	return 0
}
