package exim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrFormat is what a -H that Exim itself would reject matches: its "spool format error".
var ErrFormat = errors.New("spool format error")

// ErrHeaderSection is what a -H matches (besides ErrFormat) when only its header section is
// damaged: Exim read the envelope before it (spool_read_hdrerror), and exim -bp still lists
// the message's age, sender, frozen state and recipients, with the format error.
var ErrHeaderSection = errors.New("in the header section")

// hfile is what mqsql takes from one -H file (exim-spool.md §3).
type hfile struct {
	login       string
	sender      string
	received    int64
	usec        string
	options     map[string]string // option name (dashes and quoter stripped) → value
	nonrcpt     []string          // the non-recipients tree, flattened
	recipients  []hrcpt
	headers     []hheader
	headerStart int // offset of the first header record
	// headerSize is the sum of the lengths the header records declare, but for records
	// flagged '*', as Exim sums it for exim -bp's size (the declared length, even of the
	// record where reading failed).
	headerSize int64
}

// hrcpt is one recipient line.
type hrcpt struct {
	address, orcpt string
}

// hheader is one header record: its flag and its text (name, colon, value, trailing newline).
type hheader struct {
	flag byte
	text []byte
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

func headerErr(format string, args ...any) error {
	return fmt.Errorf("%w %w: %s", ErrFormat, ErrHeaderSection, fmt.Sprintf(format, args...))
}

// parseH parses the -H file data of message id. It returns no hfile when the envelope does
// not parse, and the hfile with the envelope and the headers read before the damage, and an
// error matching ErrHeaderSection, when only the header section does not (Exim lists such a
// message; it does not deliver it).
func parseH(data []byte, id string) (*hfile, error) {
	p := &lines{data: data}
	h := &hfile{options: map[string]string{}}
	if first, ok := p.next(); !ok || string(first) != id+"-H" {
		return nil, formatErr("first line is not %s-H", id)
	}
	if err := h.parseFixed(p); err != nil {
		return nil, err
	}
	line, err := h.parseOptions(p)
	if err != nil {
		return nil, err
	}
	if err := h.parseTree(p, line); err != nil {
		return nil, err
	}
	if err := h.parseRecipients(p); err != nil {
		return nil, err
	}
	if blank, ok := p.next(); !ok || len(blank) != 0 {
		return h, headerErr("no empty line after the recipients")
	}
	h.headerStart = p.off
	if err := h.parseHeaders(data, p.off); err != nil {
		return h, err
	}
	return h, nil
}

// parseFixed reads lines 2-4: login uid gid, <sender>, received time and warning count.
func (h *hfile) parseFixed(p *lines) error {
	login, ok := p.next()
	fields := bytes.Fields(login)
	if !ok || len(fields) < 3 {
		return formatErr("bad login line")
	}
	h.login = loginOf(login)
	sender, ok := p.next()
	if !ok || len(sender) < 2 || sender[0] != '<' || sender[len(sender)-1] != '>' {
		return formatErr("bad sender line")
	}
	h.sender = string(sender[1 : len(sender)-1])
	when, ok := p.next()
	tf := bytes.Fields(when)
	if !ok || len(tf) != 2 {
		return formatErr("bad time line")
	}
	t, err := strconv.ParseInt(string(tf[0]), 10, 64)
	if err != nil {
		return formatErr("bad time line")
	}
	h.received = t
	return nil
}

// parseOptions reads the option lines; it returns the first line that is not one (the tree).
func (h *hfile) parseOptions(p *lines) ([]byte, error) {
	for {
		line, ok := p.next()
		if !ok {
			return nil, formatErr("file ends among the option lines")
		}
		if len(line) == 0 || line[0] != '-' {
			return line, nil
		}
		name, value := optionName(line)
		switch name {
		case "aclc", "aclm", "acl":
			if err := skipACL(p, value); err != nil {
				return nil, err
			}
			continue
		}
		h.options[name] = value
	}
}

// optionName splits an option line into its name, without its one or two dashes and an
// optional (quoter), and its value.
func optionName(line []byte) (string, string) {
	line = bytes.TrimPrefix(line[1:], []byte("-"))
	if len(line) > 0 && line[0] == '(' {
		if i := bytes.IndexByte(line, ')'); i >= 0 {
			line = line[i+1:]
		}
	}
	name, value, _ := bytes.Cut(line, []byte(" "))
	return string(name), string(value)
}

// skipACL skips the raw value of an ACL variable: "NAME LEN" then LEN bytes and a newline.
func skipACL(p *lines, value string) error {
	f := bytes.Fields([]byte(value))
	if len(f) != 2 {
		return formatErr("bad ACL variable line")
	}
	n, err := strconv.Atoi(string(f[1]))
	if err != nil || n < 0 || n >= len(p.data)-p.off || p.data[p.off+n] != '\n' {
		return formatErr("bad ACL variable value")
	}
	p.off += n + 1
	return nil
}

// parseTree reads the non-recipients tree that starts with line: "XX" when empty, otherwise
// pre-order nodes "LR address", L and R saying whether a left and right child follow.
func (h *hfile) parseTree(p *lines, line []byte) error {
	if string(line) == "XX" {
		return nil
	}
	pending := 1
	for pending > 0 {
		if len(line) < 3 || !isYN(line[0]) || !isYN(line[1]) || line[2] != ' ' {
			return formatErr("bad non-recipients tree")
		}
		h.nonrcpt = append(h.nonrcpt, string(line[3:]))
		pending--
		for _, c := range line[:2] {
			if c == 'Y' {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		var ok bool
		if line, ok = p.next(); !ok {
			return formatErr("file ends in the non-recipients tree")
		}
	}
	return nil
}

func isYN(c byte) bool { return c == 'Y' || c == 'N' }

// maxRecipientLines is the count Exim's reader refuses beyond.
const maxRecipientLines = 16384

// parseRecipients reads the count line and the recipient lines.
func (h *hfile) parseRecipients(p *lines) error {
	line, ok := p.next()
	n, err := strconv.Atoi(string(line))
	if !ok || err != nil || n < 0 || n > maxRecipientLines {
		return formatErr("bad recipient count")
	}
	h.recipients = make([]hrcpt, 0, min(n, 128))
	for i := 0; i < n; i++ {
		line, ok := p.next()
		if !ok {
			return formatErr("file ends among the recipients")
		}
		h.recipients = append(h.recipients, parseRecipient(string(line)))
	}
	return nil
}

// parseHeaders reads the header records "NNNf text" from off to the end of data as Exim's
// spool_read_header does (fscanf "%d%c " then NNN bytes): a record starts with a digit, its
// length is the digits, its flag the byte after them, any white space after the flag is
// skipped, and the text is the next NNN bytes, none of them NUL. A declared length a few
// bytes off therefore is not always an error: when the bytes left over scan as a record of
// their own (a text ending "+0000\n" read two bytes short leaves "0\n", a record of length 0),
// Exim is back in step and reads the message as sound, and so does this.
func (h *hfile) parseHeaders(data []byte, off int) error {
	for off < len(data) {
		if !isDigit(data[off]) {
			return headerErr("header record at offset %d does not start with its length (the record before it is longer than it declares?)", off)
		}
		n, i := scanLength(data, off)
		var flag byte
		if i < len(data) {
			flag, i = data[i], i+1
		}
		for i < len(data) && isCSpace(data[i]) {
			i++
		}
		if flag != '*' {
			h.headerSize += int64(n)
		}
		n = max(n, 0)
		if n > len(data)-i {
			return headerErr("header record at offset %d declares %d bytes, the file ends after %d", off, n, len(data)-i)
		}
		if k := bytes.IndexByte(data[i:i+n], 0); k >= 0 {
			return headerErr("header record at offset %d has a NUL byte at offset %d", off, i+k)
		}
		h.headers = append(h.headers, hheader{flag: flag, text: data[i : i+n]})
		off = i + n
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isCSpace is C's isspace in the C locale, what a blank in a scanf format skips.
func isCSpace(c byte) bool { return c == ' ' || ('\t' <= c && c <= '\r') }

// scanLength scans the digits at off as glibc's scanf %d does on a 64-bit system: the value
// saturates at the largest long and is then cut to an int (so a huge length is -1). It
// returns the value and the offset after the digits.
func scanLength(data []byte, off int) (int, int) {
	var v int64
	for ; off < len(data) && isDigit(data[off]); off++ {
		d := int64(data[off] - '0')
		if v > (math.MaxInt64-d)/10 {
			v = math.MaxInt64
		} else {
			v = v*10 + d
		}
	}
	return int(int32(v)), off
}

// lines reads a byte slice line by line (LF only), without copying.
type lines struct {
	data []byte
	off  int
}

func (l *lines) next() ([]byte, bool) {
	if l.off >= len(l.data) {
		return nil, false
	}
	i := bytes.IndexByte(l.data[l.off:], '\n')
	if i < 0 {
		return nil, false
	}
	line := l.data[l.off : l.off+i]
	l.off += i + 1
	return line, true
}
