package postfix

import (
	"bufio"
	"bytes"
	"io"
	"time"

	"github.com/mqsql/mqsql"
)

// PostcatParts selects what Postcat shows (mqsql.ContentParts).
type PostcatParts = mqsql.ContentParts

// Postcat writes message id to w the way `postcat -q id` shows it: envelope records with
// postcat's names and times in local time, the header and body lines, the extracted records,
// and the *** markers between them when the envelope is shown. Bytes from the message are
// written as they are; a caller showing them on a terminal must escape them.
func (s *Spool) Postcat(w io.Writer, id string, show PostcatParts) error {
	if show == (PostcatParts{}) {
		show = PostcatParts{Envelope: true, Header: true, Body: true}
	}
	f, loc, err := s.openMessage(id)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(w)
	p := &postcatWriter{w: bw, show: show, location: loc.Path}
	err = walkMessage(f, loc, !show.Envelope, func(r Record) error {
		if !p.started {
			p.started = true
			p.marker("ENVELOPE RECORDS")
		}
		return p.record(r)
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// postcatWriter formats records as postcat prints them.
type postcatWriter struct {
	w        *bufio.Writer
	show     PostcatParts
	location string
	started  bool
	prevCont bool // the last text record written was L, so its line is not finished
}

func (p *postcatWriter) marker(what string) {
	if p.show.Envelope {
		p.w.WriteString("*** " + what + " " + p.location + " ***\n")
	}
}

// record writes one record, or stops reading when nothing more is to be shown.
func (p *postcatWriter) record(r Record) error {
	switch r.Type {
	case recMesg:
		p.marker("MESSAGE CONTENTS")
		return nil
	case recXtra:
		if p.prevCont {
			p.w.WriteByte('\n')
			p.prevCont = false
		}
		p.marker("HEADER EXTRACTED")
		if !p.show.Envelope {
			return SkipRest
		}
		return nil
	case recEnd:
		p.marker("MESSAGE FILE END")
		return SkipRest
	}
	switch r.Part {
	case Header, Body:
		return p.text(r)
	}
	if p.show.Envelope {
		p.envelope(r)
	}
	return nil
}

// text writes a header or body line when that part is shown.
func (p *postcatWriter) text(r Record) error {
	shown := (r.Part == Header && p.show.Header) || (r.Part == Body && p.show.Body)
	if !shown {
		if r.Part == Body && !p.show.Envelope {
			return SkipRest // postcat -h: the header is done
		}
		return nil
	}
	if r.Type != recNorm && r.Type != recCont {
		return nil
	}
	p.w.Write(r.Data)
	p.prevCont = r.Type == recCont
	if !p.prevCont {
		p.w.WriteByte('\n')
	}
	return nil
}

// envelope writes an envelope or extracted record as "name: value".
func (p *postcatWriter) envelope(r Record) {
	switch r.Type {
	case recTime:
		p.w.WriteString(recordName(r.Type) + ": " + asctime(atol(r.Data)))
	case 'W':
		p.w.WriteString(recordName(r.Type) + ": " + asctime(atol(r.Data)))
	case recAttr:
		name, value, ok := splitNameValue(r.Data)
		switch {
		case !ok:
			// postcat warns about a malformed attribute and shows nothing
		case name == "create_time":
			p.w.WriteString("create_time: " + asctime(atol([]byte(value))))
		default:
			p.w.WriteString(recordName(r.Type) + ": " + name + "=" + value + "\n")
		}
	default:
		data := r.Data
		if i := bytes.IndexByte(data, 0); i >= 0 {
			data = data[:i] // postcat prints these with %s
		}
		p.w.WriteString(recordName(r.Type) + ": ")
		p.w.Write(data)
		p.w.WriteByte('\n')
	}
}

// recordNames are postcat's names for record types (global/rec_type.c). L is content_filter
// outside the content segment, which is where postcat names it.
var recordNames = map[byte]string{
	'C': "message_size", 'T': "message_arrival_time", 'c': "queue_file_create_time",
	'F': "sender_fullname", 'I': "content_inspector", 'L': "content_filter", 'S': "sender",
	'D': "done_recipient", '/': "canceled_recipient", 'R': "recipient", 'O': "original_recipient",
	'W': "warning_message_time", 'A': "named_attribute", 'p': "pointer_record", 'K': "killed_record",
	'M': "message_content", 'N': "regular_text", 'w': "padding", 'X': "extracted_info",
	'r': "return_receipt", 'e': "errors_to", 'P': "priority", 'V': "verp_delimiters",
	'E': "message_end", '>': "redirect_to", 'f': "flags", '<': "dsn_return_flags",
	'i': "dsn_envelope_id", 'o': "dsn_original_recipient", 'n': "dsn_notify_flags",
}

func recordName(t byte) string {
	if n, ok := recordNames[t]; ok {
		return n
	}
	return "unknown_record_type"
}

// asctime formats unix seconds as C's asctime(localtime(&t)) does, newline included.
func asctime(sec int64) string {
	return time.Unix(sec, 0).Local().Format("Mon Jan _2 15:04:05 2006") + "\n"
}

// atol parses a decimal number as C's atol: leading white space, an optional sign, digits.
func atol(b []byte) int64 {
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	var n int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9' && n < 1<<58; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// splitNameValue splits an attribute record as Postfix's split_nameval does: a name without
// blanks, optional blanks, '=', and the value with surrounding blanks removed.
func splitNameValue(data []byte) (name, value string, ok bool) {
	s := string(bytes.TrimLeftFunc(data, func(r rune) bool { return r < 0x80 && isCSpace(byte(r)) }))
	end := 0
	for end < len(s) && !isCSpace(s[end]) && s[end] != '=' {
		end++
	}
	if end == 0 {
		return "", "", false
	}
	rest := s[end:]
	for rest != "" && isCSpace(rest[0]) {
		rest = rest[1:]
	}
	if rest == "" || rest[0] != '=' {
		return "", "", false
	}
	v := []byte(rest[1:])
	v = bytes.TrimFunc(v, func(r rune) bool { return r < 0x80 && isCSpace(byte(r)) })
	return s[:end], string(v), true
}
