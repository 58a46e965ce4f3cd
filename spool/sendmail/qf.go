package sendmail

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/mqsql/mqsql"
)

// qfVersion is the control file version Sendmail 8.17 writes (QF_VERSION); readqf rejects
// newer ones.
const qfVersion = 8

// qfile is what one control file (qf, hf or Qf) says, line by line as queueup() writes it
// and readqf() reads it (sendmail-queue.md §4).
type qfile struct {
	created, lastTry int64 // T and K
	tries            int   // N
	quarantine       string
	message          string // the envelope M: the last run's status, what mailq shows
	sender           string // S as stored, with its <> if given so
	hasSender        bool
	bodyType         string
	authInfo         string // the $_ macro: "host [ip]" for SMTP clients
	helo             string // the $s macro
	dfDir            string // the d line: the df lives in another queue directory
	headers          []qheader
	terminated       bool // the "." line was read
}

// qheader is one H line: the name as written and the raw value, continuation lines kept with
// their newline and indentation.
type qheader struct {
	name  string
	value []byte
}

// qfParser turns the lines of a control file into a qfile, remembering the first problem.
type qfParser struct {
	f        *qfile
	msg      *mqsql.Message // receives the recipients, so the budget sees them
	budget   *mqsql.RecipientBudget
	pending  struct{ message, orcpt string }
	full     bool // a recipient limit was hit: the rest are not indexed
	lineNo   int
	first    error
	canceled error
}

// parseQF parses data, a whole control file, into f, adding recipients to m. It returns the
// first problem with the content (the file is then still a message), or
// mqsql.ErrBudgetCanceled when the run ended while waiting for the budget.
func parseQF(data []byte, f *qfile, m *mqsql.Message, budget *mqsql.RecipientBudget) (problem, canceled error) {
	p := &qfParser{f: f, msg: m, budget: budget}
	var off int64
	for len(data) > 0 && p.canceled == nil {
		line, n := nextFolded(data)
		p.lineNo++
		if f.terminated {
			p.problem(errors.New("data after the end marker (.): readqf rejects the file"))
			break
		}
		p.line(line, off)
		data, off = data[n:], off+int64(n)
	}
	if p.canceled == nil && !f.terminated && p.first == nil {
		p.first = errors.New("incomplete queue file: no end marker (.)")
	}
	if p.canceled == nil && !f.hasSender && p.first == nil {
		p.first = errors.New("no sender line (S): the envelope sender cannot be read")
	}
	return p.first, p.canceled
}

// nextFolded returns the first logical line of data (without its final newline; continuation
// lines, which start with a tab or space, joined with their newline) and how many bytes it
// used.
func nextFolded(data []byte) ([]byte, int) {
	end := 0
	for {
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			return data, len(data)
		}
		end += i
		if end+1 < len(data) && (data[end+1] == '\t' || data[end+1] == ' ') {
			end++
			continue
		}
		return data[:end], end + 1
	}
}

func (p *qfParser) problem(err error) {
	if p.first == nil {
		p.first = fmt.Errorf("line %d: %w", p.lineNo, err)
	}
}

// line handles one logical line at file offset off.
func (p *qfParser) line(line []byte, off int64) {
	if len(line) == 0 {
		p.problem(errors.New("empty line"))
		return
	}
	if p.lineNo == 1 && line[0] != 'V' {
		p.problem(fmt.Errorf("no version line: first line %q", clip(line)))
	}
	v := line[1:]
	f := p.f
	switch line[0] {
	case 'V':
		p.version(v)
	case 'T':
		f.created = p.number(line)
	case 'K':
		f.lastTry = p.number(line)
	case 'N':
		f.tries = int(p.number(line))
	case 'q':
		f.quarantine = string(v)
	case 'M':
		p.messageLine(string(v))
	case 'B':
		f.bodyType = string(v)
	case 'd':
		f.dfDir = string(v)
	case 'S':
		f.sender, f.hasSender = string(v), true
	case '$', '!':
		p.macro(v)
	case 'Q':
		p.pending.orcpt = string(v)
	case 'R':
		p.recipient(v, off)
	case 'H':
		p.header(v)
	case '.':
		f.terminated = true
	case 'P', 'I', 'F', 'Z', 'A', 'r', 'C', 'D', 'E', 'L':
		// priority, df inode, flags, ENVID, AUTH=, final-recipient, controlling user and
		// the obsolete D, E and L lines: nothing a column shows.
	default:
		p.problem(fmt.Errorf("unknown line type %q (%q)", line[0], clip(line)))
	}
}

// clip shortens a line for an error message.
func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

func (p *qfParser) version(v []byte) {
	n, err := strconv.Atoi(string(v))
	if err != nil || n > qfVersion || n < 0 {
		p.problem(fmt.Errorf("unsupported queue file version %q", v))
	}
}

func (p *qfParser) number(line []byte) int64 {
	n, err := strconv.ParseInt(string(line[1:]), 10, 64)
	if err != nil {
		p.problem(fmt.Errorf("bad %c line %q", line[0], clip(line)))
	}
	return n
}

// messageLine keeps an M line: before the sender it is the envelope's status, after it the
// status of the recipient whose lines follow.
func (p *qfParser) messageLine(text string) {
	if !p.f.hasSender && len(p.msg.Recipients) == 0 && p.pending.orcpt == "" {
		p.f.message = text
		return
	}
	p.pending.message = text
}

// macro keeps the persistent macros a column shows: $_ (authentication info: the client's
// host and address for SMTP mail) and $s (the HELO name). The ! (deliver-by) line, which
// readqf reads like a macro, carries a binary mode byte and is skipped.
func (p *qfParser) macro(v []byte) {
	if len(v) < 1 {
		return
	}
	switch v[0] {
	case '_':
		p.f.authInfo = string(v[1:])
	case 's':
		p.f.helo = string(v[1:])
	}
}

// recipient adds the R line v (flags, a colon, the address), with the M and Q lines that
// preceded it, unless a recipient limit says no.
func (p *qfParser) recipient(v []byte, off int64) {
	pend := p.pending
	p.pending.message, p.pending.orcpt = "", ""
	if p.full {
		return
	}
	if err := p.budget.Admit(p.msg); err != nil {
		var limit *mqsql.LimitError
		if errors.As(err, &limit) {
			p.full = true
			p.problem(limit)
			return
		}
		p.canceled = err
		return
	}
	r := mqsql.Recipient{Address: unbracket(recipientAddress(v)), Offset: off, Status: mqsql.Pending}
	if pend.orcpt != "" {
		r.OrigAddress = orcptAddress(pend.orcpt)
	}
	r.DelayReason = pend.message
	p.msg.Recipients = append(p.msg.Recipients, r)
}

// recipientAddress returns what follows the flag letters and colon of an R line, or the whole
// line when it has no flags (files of older versions).
func recipientAddress(v []byte) string {
	for i, c := range v {
		if c == ':' {
			return string(v[i+1:])
		}
		if c < 'A' || c > 'Z' {
			break
		}
	}
	return string(v)
}

// orcptAddress strips the address type of an ORCPT ("rfc822;addr").
func orcptAddress(s string) string {
	if i := bytes.IndexByte([]byte(s), ';'); i >= 0 {
		return string(bytes.TrimSpace([]byte(s[i+1:])))
	}
	return s
}

// unbracket strips one pair of angle brackets, as addresses given over SMTP are stored.
func unbracket(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// header keeps an H line: "?cond?Name: value" or "Name: value".
func (p *qfParser) header(v []byte) {
	if len(v) > 0 && v[0] == '?' {
		if i := bytes.IndexByte(v[1:], '?'); i >= 0 {
			v = v[i+2:]
		}
	}
	name, value, ok := bytes.Cut(v, []byte(":"))
	if !ok || len(name) == 0 {
		p.problem(fmt.Errorf("bad header line %q", clip(v)))
		return
	}
	p.f.headers = append(p.f.headers, qheader{name: string(bytes.TrimSpace(name)), value: value})
}
