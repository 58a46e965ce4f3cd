package postfix

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/mqsql/mqsql"
)

// LogEntry is one recipient's entry in a defer or bounce log: why delivery to it did not
// happen, as the bounce daemon recorded it.
type LogEntry struct {
	Recipient         string // quoted form, as Postfix logs it
	OriginalRecipient string
	Offset            int64 // of the recipient record in the queue file; -1 when not logged
	Status            string
	Action            string
	Reason            string
	DiagType          string
	DiagText          string
}

// maxLogLine bounds one line of a log; Postfix writes lines far shorter.
const maxLogLine = 64 << 10

// parseLog reads a defer or bounce log (bounce/bounce_append_service.c format): entries of
// name=value lines separated by empty lines. An entry at the end of the file without its
// closing empty line is dropped, as Postfix drops it: the writer may still be appending it.
func parseLog(r io.Reader) ([]LogEntry, error) {
	return parseLogBuf(r, make([]byte, 0, 4096), mqsql.MaxRecipients+orphanLogEntries)
}

// orphanLogEntries is how many defer-log entries naming no recipient of the message a reader
// keeps, besides one per recipient. Postfix writes an entry for a recipient it tried, so a log
// normally names only the file's recipients; a hundred leaves room for a log left behind by
// postsuper -r or a rewritten file while bounding what a hostile log can add.
const orphanLogEntries = 100

// LogLimitError reports a log that names more distinct recipients than its message can have.
// The entries up to the limit are still used.
type LogLimitError struct{ Limit int }

func (e *LogLimitError) Error() string {
	return fmt.Sprintf("defer log names more than %d distinct recipients; the others are not shown", e.Limit)
}

// parseLogBuf is parseLog with the caller's line buffer, which bulk readers reuse. It keeps one
// entry per recipient (by offset, or by address when the entry has no offset), the last one
// logged, where the first one stood: a log appended to on every retry repeats its recipients,
// and the last reason is the one that holds. Past limit distinct recipients it keeps reading
// for repeats but adds no new ones, and returns a *LogLimitError with the entries.
func parseLogBuf(r io.Reader, buf []byte, limit int) ([]LogEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(buf, maxLogLine)
	var kept logEntries
	var cur *LogEntry
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if cur != nil {
				kept.add(cur, limit)
				cur = nil
			}
			continue
		}
		name, value, ok := bytes.Cut(line, []byte("="))
		if !ok || !isAlnum(line[0]) {
			continue // the old-style "<addr>: text" line, or noise
		}
		if cur == nil {
			cur = &LogEntry{Offset: -1}
		}
		cur.set(string(name), printable(value))
	}
	if err := sc.Err(); err != nil {
		return kept.list, err
	}
	if kept.dropped {
		return kept.list, &LogLimitError{Limit: limit}
	}
	return kept.list, nil
}

// logEntries are the entries of a log kept so far, one per recipient, with indexes by offset
// and by address made on first need.
type logEntries struct {
	list     []LogEntry
	byOffset map[int64]int
	byAddr   map[string]int
	dropped  bool // an entry for a new recipient came past the limit
}

func (k *logEntries) add(e *LogEntry, limit int) {
	if i, ok := k.find(e); ok {
		k.list[i] = *e
		return
	}
	if len(k.list) >= limit {
		k.dropped = true
		return
	}
	if e.Offset >= 0 {
		if k.byOffset == nil {
			k.byOffset = map[int64]int{}
		}
		k.byOffset[e.Offset] = len(k.list)
	} else {
		if k.byAddr == nil {
			k.byAddr = map[string]int{}
		}
		k.byAddr[e.Recipient] = len(k.list)
	}
	k.list = append(k.list, *e)
}

func (k *logEntries) find(e *LogEntry) (int, bool) {
	if e.Offset >= 0 {
		i, ok := k.byOffset[e.Offset]
		return i, ok
	}
	i, ok := k.byAddr[e.Recipient]
	return i, ok
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (e *LogEntry) set(name, value string) {
	switch name {
	case "recipient":
		e.Recipient = value
	case "original_recipient":
		e.OriginalRecipient = value
	case "offset":
		if n, err := strconv.ParseInt(value, 10, 64); err == nil && n >= 0 {
			e.Offset = n
		}
	case "status":
		e.Status = value
	case "action":
		e.Action = value
	case "reason":
		e.Reason = value
	case "diag_type":
		e.DiagType = value
	case "diag_text":
		e.DiagText = value
	}
}

// printable replaces control bytes and invalid UTF-8 with '?', as Postfix's log reader does, so
// reasons compare equal to what postqueue shows.
func printable(b []byte) string {
	if plainASCII(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			out = append(out, '?')
		case r < 0x20 || r == 0x7f:
			out = append(out, '?')
		default:
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

// plainASCII reports whether b is printable ASCII only, which printable leaves as it is.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
