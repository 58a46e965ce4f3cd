package spool

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"unicode/utf8"
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
	return parseLogBuf(r, make([]byte, 0, 4096))
}

// parseLogBuf is parseLog with the caller's line buffer, which bulk readers reuse.
func parseLogBuf(r io.Reader, buf []byte) ([]LogEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(buf, maxLogLine)
	var entries []LogEntry
	var cur *LogEntry
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if cur != nil {
				entries = append(entries, *cur)
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
	return entries, sc.Err()
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
