package postfix

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// ErrNoMessage reports a queue ID found in none of the directories postcat -q searches: the
// message was delivered, deleted or set aside since it was listed.
var ErrNoMessage = mqsql.ErrNoMessage

// SkipRest, returned by a ReadMessage callback, stops reading the file without an error, so
// a caller that has what it needs (the headers, the first kilobytes of a body) does not read a
// 50 MB attachment.
var SkipRest = errors.New("spool: skip the rest of the message")

// searchOrder is where postcat -q looks for a queue ID, in its order (postcat.c): the message
// queues, then saved. Corrupt is not searched.
var searchOrder = []string{"maildrop", "incoming", "active", "deferred", "hold", "saved"}

// Location is where a queue file was found.
type Location struct {
	// Queue is the directory the file is in (one of postcat's: maildrop, incoming, active,
	// deferred, hold, saved).
	Queue string
	// Path is relative to the queue directory, as postcat -q prints it ("deferred/3/4jc…").
	Path string
}

// Part says which part of a message a record belongs to, divided as postcat divides a queue
// file for its -e, -h and -b options.
type Part int

// The parts, in file order.
const (
	Envelope  Part = iota // sender, recipients, attributes; ends with the M record
	Header                // the primary header lines
	Body                  // every content line after the primary header
	Extracted             // from the X record to the E record
)

// Record is one queue-file record met while reading a message in logical order (pointer
// records followed, padding skipped). Data is only valid during the callback that gets it.
type Record struct {
	Part   Part
	Type   byte
	Offset int64
	Data   []byte
}

// ReadMessage finds the queue file of id as postcat -q does and calls fn with each of its
// records in the order Postfix reads them: pointer records are followed and not passed on,
// padding is skipped, and reading ends after the E record. Text records of the content are
// given the Header or Body part by postcat's rule: the header ends at the first line that is
// neither a header field nor a continuation line, unless it continues an unterminated (L)
// record. fn may return SkipRest to stop early. Records already passed to fn stay valid
// output when the file turns out to be damaged; the error then says where.
func (s *Spool) ReadMessage(id string, fn func(Record) error) (Location, error) {
	return s.readMessage(id, false, fn)
}

// readMessage is ReadMessage; contentOnly starts at the first content record when the C
// record says where it is, for readers that do not need the envelope.
func (s *Spool) readMessage(id string, contentOnly bool, fn func(Record) error) (Location, error) {
	f, loc, err := s.openMessage(id)
	if err != nil {
		return loc, err
	}
	defer f.Close()
	return loc, walkMessage(f, loc, contentOnly, fn)
}

// walkMessage reads the open queue file f, found at loc, record by record.
func walkMessage(f *os.File, loc Location, contentOnly bool, fn func(Record) error) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("stat %s: %w", loc.Path, err)
	}
	w := &contentWalker{rr: newRecordReader(f, st.Size), fn: fn}
	if contentOnly {
		w.skipEnvelope()
	}
	if err := w.run(); err != nil && !errors.Is(err, SkipRest) {
		return fmt.Errorf("read %s: %w", loc.Path, err)
	}
	return nil
}

// openMessage opens the first existing file for id among postcat's directories, making two
// passes as postcat does, since a message may move from active to deferred between two looks.
// Only regular files are opened, and never through a symbolic link.
func (s *Spool) openMessage(id string) (*os.File, Location, error) {
	if !ValidQueueID(id) {
		return nil, Location{}, fmt.Errorf("bad mail queue ID %q", id)
	}
	var firstErr error
	for range 2 {
		for _, q := range searchOrder {
			loc := Location{Queue: q, Path: s.cfg.RelPath(q, id)}
			f, err := s.root.Open(loc.Path, false)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err == nil {
				var st unix.Stat_t
				if err = unix.Fstat(int(f.Fd()), &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
					err = fmt.Errorf("%s: not a regular file", loc.Path)
				}
				if err == nil {
					return f, loc, nil
				}
				f.Close()
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("open %s: %w", loc.Path, err)
			}
		}
	}
	if firstErr != nil {
		return nil, Location{}, firstErr
	}
	return nil, Location{}, fmt.Errorf("%s: %w", id, ErrNoMessage)
}

// contentWalker reads one queue file record by record in logical order and tracks the part.
type contentWalker struct {
	rr       *recordReader
	fn       func(Record) error
	part     Part
	prevCont bool // the previous text record was L: the next one continues its line
}

// skipEnvelope moves to the first content record when the C record locates it and the M
// record is where it says: the fast path showq and postcat take.
func (w *contentWalker) skipEnvelope() {
	rec, err := w.rr.next()
	if err != nil || rec.typ != recSize {
		w.rr.seek(0)
		return
	}
	size := parseSizeRecord(rec.data)
	if !size.valid {
		w.rr.seek(0)
		return
	}
	if b, err := w.rr.bytesAt(size.dataOffset-2, 2); err != nil || b[0] != recMesg || b[1] != 0 {
		w.rr.seek(0)
		return
	}
	w.rr.seek(size.dataOffset)
	w.part = Header
}

func (w *contentWalker) run() error {
	if w.rr.pos == 0 {
		if b, err := w.rr.bytesAt(0, 1); err == nil && !envelopeSeg.accepts(b[0]) {
			return &RecordError{Offset: 0, Msg: fmt.Sprintf("not a queue file: first record type %q", b[0])}
		}
	}
	for {
		rec, err := w.rr.next()
		if errors.Is(err, io.EOF) {
			return nil // postcat, too, stops quietly at the end of a file without E
		}
		if err != nil {
			return err
		}
		done, err := w.handle(rec)
		if err != nil || done {
			return err
		}
	}
}

// handle passes one record on with its part; done is true after the E record.
func (w *contentWalker) handle(rec record) (done bool, err error) {
	switch rec.typ {
	case recPtr:
		return false, w.rr.jump(rec)
	case recPadding:
		return false, nil
	case recMesg:
		err = w.emit(rec)
		w.part, w.prevCont = Header, false
		return false, err
	case recXtra:
		w.part = Extracted
		return false, w.emit(rec)
	case recEnd:
		w.part = Extracted
		return true, w.emit(rec)
	case recNorm, recCont:
		if w.part == Header || w.part == Body {
			if w.part == Header && !w.prevCont && !isHeaderOrContinuation(rec.data) {
				w.part = Body
			}
			w.prevCont = rec.typ == recCont
		}
	}
	return false, w.emit(rec)
}

func (w *contentWalker) emit(rec record) error {
	return w.fn(Record{Part: w.part, Type: rec.typ, Offset: rec.off, Data: rec.data})
}

// isHeaderOrContinuation is postcat's test for a line that still belongs to the primary
// header: a header field (Postfix's is_header, which allows blanks before the colon) or a line
// starting with a space or tab.
func isHeaderOrContinuation(line []byte) bool {
	return headerNameLen(line) > 0 || (len(line) > 0 && (line[0] == ' ' || line[0] == '\t'))
}

// headerNameLen returns the length of the field name line starts with, or 0 when line is not
// a header field: printable ASCII up to a colon, optionally followed by blanks before it.
func headerNameLen(line []byte) int {
	n, blanks := 0, false
	for _, c := range line {
		switch {
		case c == ':':
			return n
		case c == ' ' || c == '\t':
			if n == 0 {
				return 0
			}
			blanks = true
		case c == 0 || c >= 0x80 || c < ' ' || c == 0x7f || blanks:
			return 0
		default:
			n++
		}
	}
	return 0
}

// HeaderField is one field of a message's primary header, as an admin reads it: the name as
// written and the value unfolded, RFC 2047 decoded and trimmed.
type HeaderField struct {
	Name  string
	Value string
}

// Headers returns the primary header fields of message id in order, read on demand from the
// queue file (the index keeps only Subject, From and Message-ID). At most 1 MiB of header text
// is read. When the file is damaged, the fields read before the damage come with the error.
func (s *Spool) Headers(id string) ([]HeaderField, error) {
	var lines []string
	var partial []byte
	total := 0
	_, err := s.readMessage(id, true, func(r Record) error {
		switch {
		case r.Part == Envelope:
			return nil
		case r.Part != Header:
			return SkipRest
		case r.Type != recNorm && r.Type != recCont:
			return nil
		}
		if total += len(r.Data); total > maxHeaderBytes {
			return SkipRest
		}
		partial = append(partial, r.Data...)
		if r.Type == recNorm {
			lines = append(lines, string(partial))
			partial = partial[:0]
		}
		return nil
	})
	return headerFields(lines), err
}

// Header returns the values of message id's header fields called name (in any case), in order
// and joined by newlines, cut to at most limit bytes at a UTF-8 boundary: what one SQL call
// can show of a header that a sender may have repeated a thousand times. found is false when
// the message has no such field. Errors are those of Headers, with what was read before them.
func (s *Spool) Header(id, name string, limit int) (value string, found bool, err error) {
	fields, err := s.Headers(id)
	var b []byte
	for _, f := range fields {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		if found {
			b = append(b, '\n')
		}
		found = true
		b = append(b, f.Value...)
		if len(b) > limit {
			break
		}
	}
	return string(mqsql.CutUTF8(b, limit)), found, err
}

// headerFields groups header lines into fields, joining continuation lines to their field.
func headerFields(lines []string) []HeaderField {
	var fields []HeaderField
	var value strings.Builder
	name := ""
	flush := func() {
		if name != "" {
			fields = append(fields, HeaderField{Name: name, Value: decodeHeader(strings.TrimSpace(value.String()))})
		}
		name = ""
		value.Reset()
	}
	for _, line := range lines {
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if name != "" {
				value.WriteString(line)
			}
			continue
		}
		flush()
		if n := headerNameLen([]byte(line)); n > 0 {
			name = line[:n]
			_, v, _ := strings.Cut(line, ":")
			value.WriteString(v)
		}
	}
	flush()
	return fields
}

// Body returns the start of message id's body: the content lines after the primary header
// and the blank line that ends it, joined by newlines, at most limit bytes (cut at a UTF-8
// boundary when the text is UTF-8). more reports that the body goes on. Transfer encodings and
// MIME parts are left as they are. When the file is damaged, the text read before the damage
// comes with the error.
func (s *Spool) Body(id string, limit int) (text []byte, more bool, err error) {
	var b []byte
	seen, started, cont := false, false, false
	_, err = s.readMessage(id, true, func(r Record) error {
		if r.Part == Extracted {
			return SkipRest
		}
		if r.Part != Body || (r.Type != recNorm && r.Type != recCont) {
			return nil
		}
		if !seen {
			seen = true
			if r.Type == recNorm && len(r.Data) == 0 {
				return nil // the blank line between header and body
			}
		}
		if started && !cont {
			b = append(b, '\n')
		}
		started = true
		b = append(b, r.Data...)
		cont = r.Type == recCont
		if len(b) > limit {
			more = true
			return SkipRest
		}
		return nil
	})
	if more {
		b = mqsql.CutUTF8(b, limit)
	}
	return b, more, err
}
