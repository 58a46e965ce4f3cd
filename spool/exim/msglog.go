package exim

import (
	"bytes"
	"regexp"
	"strings"
)

// deferral is what one msglog defer line says about an address.
type deferral struct {
	reason, diag, dsn string
}

// msglog is what mqsql takes from a message's msglog: the last deferral of each address, and
// why Exim froze the message when it did.
type msglog struct {
	defers map[string]deferral
	frozen string
}

// logStampPrefix matches the timestamp of a msglog line: the main log's, with optional
// milliseconds and zone.
var logStampPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})?( [-+]\d{4})? `)

// deferLine splits the rest of a defer line (after "defer (ERRNO)"): an optional strerror,
// an optional host, the delivery time, and the message.
var deferLine = regexp.MustCompile(`^(?:: ([^:]*?))?(?: H=\S+ \[[^\]]*\]\S*)?(?: DT=\S+)?(?:: (.*))?$`)

// smtpReply finds a remote server's reply in a deferral message, and its DSN code.
var (
	smtpReply = regexp.MustCompile(`SMTP error from remote mail server after .*?: (\d{3}[ -].*)$`)
	dsnCode   = regexp.MustCompile(`\b([245]\.\d{1,3}\.\d{1,3})\b`)
)

// parseMsglog reads a msglog, keeping the last deferral of each address for which wanted
// reports true (at most limit addresses, so a huge log cannot hold unbounded memory).
func parseMsglog(data []byte, wanted func(string) bool, limit int) msglog {
	ml := msglog{defers: map[string]deferral{}}
	for _, raw := range bytes.Split(data, []byte("\n")) {
		line := string(raw)
		if rest, ok := strings.CutPrefix(line, "*** Frozen"); ok {
			ml.frozen = strings.TrimSpace(strings.Trim(strings.TrimSpace(rest), "()"))
			if ml.frozen == "" {
				ml.frozen = "frozen"
			}
			continue
		}
		loc := logStampPrefix.FindStringIndex(line)
		if loc == nil {
			continue
		}
		addr, d, ok := parseDeferral(line[loc[1]:], wanted)
		if !ok {
			continue
		}
		if _, seen := ml.defers[addr]; seen || len(ml.defers) < limit {
			ml.defers[addr] = d
		}
	}
	return ml
}

// parseDeferral parses "ADDR[ <PARENT>] [R=… T=…] defer (N)…" for an address wanted accepts.
func parseDeferral(s string, wanted func(string) bool) (string, deferral, bool) {
	i := strings.Index(s, " defer (")
	if i < 0 {
		return "", deferral{}, false
	}
	addr := s[:i]
	if !wanted(addr) {
		if k := strings.Index(addr, " R="); k >= 0 {
			addr = addr[:k]
		}
		if k := strings.LastIndex(addr, " <"); k >= 0 && strings.HasSuffix(addr, ">") {
			addr = addr[:k]
		}
		if !wanted(addr) {
			return "", deferral{}, false
		}
	}
	rest := s[i+len(" defer ("):]
	j := strings.IndexByte(rest, ')')
	if j < 0 {
		return "", deferral{}, false
	}
	m := deferLine.FindStringSubmatch(rest[j+1:])
	d := deferral{}
	if m != nil {
		d.reason = m[2]
		if d.reason == "" {
			d.reason = m[1]
		}
	} else {
		d.reason = strings.TrimPrefix(rest[j+1:], ": ")
	}
	if r := smtpReply.FindStringSubmatch(d.reason); r != nil {
		d.diag = r[1]
		if c := dsnCode.FindStringSubmatch(r[1]); c != nil {
			d.dsn = c[1]
		}
	}
	return addr, d, true
}
