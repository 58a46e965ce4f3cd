package postfix

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql"
)

// Limits on what one queue file may make the reader hold or do. Postfix itself gives up after
// 10,000 backward pointer jumps; the others bound memory for damaged or hostile files.
const (
	maxBackwardJumps = 10000
	maxJumps         = 100000
	maxHeaderBytes   = 1 << 20
)

type segment int

const (
	envelopeSeg segment = iota
	contentSeg
	extractedSeg
)

func (s segment) String() string {
	return [...]string{"envelope", "content", "extracted"}[s]
}

func (s segment) accepts(typ byte) bool {
	set := [...]string{envelopeTypes, contentTypes, extractedTypes}[s]
	return typ == recPtr || strings.IndexByte(set, typ) >= 0
}

// sizeRecord holds the fields of the C record that locate the segments.
type sizeRecord struct {
	contentSize int64 // field 1: postqueue's message_size
	dataOffset  int64 // field 2: first record after M
	// recipients is field 3, the recipient count cleanup wrote (never updated after), capped
	// by mqsql.RecipientHint: a capacity hint for the recipients, which a false count must not
	// make costly.
	recipients int
	sizeOK     bool // field 1 parsed: it is the message size
	valid      bool // fields 1 and 2 usable to find the X record
}

// fileParser walks one queue file in logical order (following pointer records, as Postfix's
// own reader does) and fills a Message. It reads the envelope, the primary headers and the
// extracted segment, and jumps over the body when the C record says where the body ends.
type fileParser struct {
	rr     *recordReader
	msg    *mqsql.Message
	budget *mqsql.RecipientBudget
	size   sizeRecord
	seg    segment

	sawSender bool
	sawTime   bool
	// origRcpt is the last O record's address, copied (a record's data lasts only until the
	// next read) into a buffer reused for every recipient.
	origRcpt []byte
	haveOrig bool

	headers headerReader
}

// parseQueueFile reads the queue file in r (of the given size) into msg, within budget (nil:
// none). An error describes why the file is not a complete, well-formed queue file, or which
// limit it reached; msg keeps whatever was read before.
func parseQueueFile(r io.ReaderAt, size int64, msg *mqsql.Message, budget *mqsql.RecipientBudget) error {
	p := &fileParser{rr: newRecordReader(r, size), msg: msg, budget: budget}
	err := p.run()
	msg.NoSender = !p.sawSender
	p.rr.release()
	p.keepHeaders()
	return err
}

// keepHeaders copies the headers the messages table shows into msg, decoded.
func (p *fileParser) keepHeaders() {
	for i, dst := range [len(keptHeaders)]*string{&p.msg.Subject, &p.msg.FromHeader, &p.msg.MessageID} {
		if v, ok := p.headers.Header(keptHeaders[i]); ok {
			*dst = decodeHeader(v)
		}
	}
}

func (p *fileParser) run() error {
	if b, err := p.rr.bytesAt(0, 1); err == nil && !envelopeSegAccepts(b[0]) {
		return &RecordError{Offset: 0, Msg: fmt.Sprintf("not a queue file: first record type %q", b[0])}
	}
	first := true
	for {
		rec, err := p.rr.next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("no end record: the file ends in the %s segment", p.seg)
		}
		if err != nil {
			return err
		}
		if first {
			first = false
			if err := p.first(rec); err != nil {
				return err
			}
			continue
		}
		done, err := p.handle(rec)
		if err != nil {
			return err
		}
		if done {
			return p.complete()
		}
	}
}

// complete checks what a queue file must have besides its end record: a sender. Postfix's
// showq lists a message only once it reaches the sender record, so a file without one is not
// mail Postfix would show or deliver.
func (p *fileParser) complete() error {
	if !p.sawSender {
		return errors.New("no sender record")
	}
	return nil
}

// first checks that the file starts like a queue file and reads the C record if there is one
// (postdrop files in maildrop have none).
func (p *fileParser) first(rec record) error {
	if rec.typ == recSize {
		p.size = parseSizeRecord(rec.data)
		if p.size.sizeOK {
			p.msg.Size = p.size.contentSize
		}
		return nil
	}
	_, err := p.handle(rec)
	return err
}

func envelopeSegAccepts(typ byte) bool { return envelopeSeg.accepts(typ) }

// handle processes one record; done is true at the end record.
func (p *fileParser) handle(rec record) (done bool, err error) {
	switch rec.typ {
	case recPtr:
		return false, p.rr.jump(rec)
	case recPadding:
		return false, nil
	}
	if !p.seg.accepts(rec.typ) {
		return false, &RecordError{Offset: rec.off, Msg: fmt.Sprintf("unexpected record type %q in the %s segment", rec.typ, p.seg)}
	}
	switch p.seg {
	case envelopeSeg:
		return false, p.envelope(rec)
	case contentSeg:
		return false, p.content(rec)
	default:
		return p.extracted(rec)
	}
}

func (p *fileParser) envelope(rec record) error {
	switch rec.typ {
	case recTime:
		if !p.sawTime {
			p.sawTime = true
			p.msg.ArrivalTime = leadingInt(rec.data)
		}
	case recAttr:
		p.attribute(rec.data)
	case recFrom:
		if p.sawSender {
			return &RecordError{Offset: rec.off, Msg: "second sender record"}
		}
		p.sawSender = true
		p.msg.Sender = string(rec.data)
	case recOrigRcpt, recRcpt, recDone, recDeleted:
		return p.recipient(rec)
	case recMesg:
		p.seg = contentSeg
	case recSize:
		// A second C record is ignored, as Postfix ignores it: the first one wins.
	}
	return nil
}

// attribute keeps the named attributes mqsql shows, and log_ident, which links a requeued or
// restored message to its earlier queue ID; the rest (DSN, ...) are not needed for the tables.
func (p *fileParser) attribute(data []byte) {
	name, value, ok := bytes.Cut(data, []byte("="))
	if !ok {
		return
	}
	var dst *string
	switch string(bytes.TrimSpace(name)) {
	case "client_address":
		dst = &p.msg.ClientAddress
	case "helo_name":
		dst = &p.msg.HeloName
	case "sasl_username":
		dst = &p.msg.SASLUsername
	case "log_ident":
		dst = &p.msg.LogIdent
	default:
		return
	}
	*dst = string(bytes.TrimSpace(value))
}

// recipient handles O (which belongs to the next recipient record) and R, D and / records.
func (p *fileParser) recipient(rec record) error {
	if rec.typ == recOrigRcpt {
		p.origRcpt, p.haveOrig = append(p.origRcpt[:0], rec.data...), true
		return nil
	}
	if !p.sawSender {
		return &RecordError{Offset: rec.off, Msg: "recipient record before the sender record"}
	}
	if err := p.withinBudget(rec); err != nil {
		return err
	}
	r := mqsql.Recipient{Address: string(rec.data), Offset: rec.off, Status: recipientStatus(rec.typ)}
	if p.haveOrig {
		r.OrigAddress = sameOrCopy(r.Address, p.origRcpt)
	}
	p.haveOrig = false
	if p.msg.Recipients == nil {
		p.msg.Recipients = make([]mqsql.Recipient, 0, p.size.recipients)
	}
	p.msg.Recipients = append(p.msg.Recipients, r)
	return nil
}

// withinBudget checks that one more recipient stays within mqsql's recipient limits (see
// mqsql.RecipientBudget.Admit), naming the record where a limit was hit.
func (p *fileParser) withinBudget(rec record) error {
	err := p.budget.Admit(p.msg)
	var limit *mqsql.LimitError
	if errors.As(err, &limit) {
		return &RecordError{Offset: rec.off, Msg: limit.Error()}
	}
	return err
}

// sameOrCopy returns s when b holds the same bytes, else a copy of b. smtpd writes an O record
// with the address as given for every recipient, almost always the R record's own address:
// sharing the string saves an allocation and the bytes per recipient.
func sameOrCopy(s string, b []byte) string {
	if s == string(b) {
		return s
	}
	return string(b)
}

func recipientStatus(typ byte) mqsql.RecipientStatus {
	switch typ {
	case recDone:
		return mqsql.Done
	case recDeleted:
		return mqsql.Removed
	}
	return mqsql.Pending
}

// content reads header lines until the primary header ends, then jumps to the extracted
// segment when the C record allows it, so the body is never read.
func (p *fileParser) content(rec record) error {
	if rec.typ == recXtra {
		p.seg = extractedSeg
		return nil
	}
	if p.headers.done {
		return nil
	}
	p.headers.add(rec.typ == recCont, rec.data)
	if p.headers.done {
		p.skipBody()
	}
	return nil
}

// skipBody seeks to the X record at dataOffset+contentSize, checking it is there; when it is
// not (an old or damaged C record) reading simply goes on through the body.
func (p *fileParser) skipBody() {
	if !p.size.valid {
		return
	}
	x := p.size.dataOffset + p.size.contentSize
	b, err := p.rr.bytesAt(x, 2)
	if err != nil || b[0] != recXtra || b[1] != 0 {
		return
	}
	p.rr.seek(x)
}

func (p *fileParser) extracted(rec record) (done bool, err error) {
	switch rec.typ {
	case recEnd:
		return true, nil
	case recOrigRcpt, recRcpt, recDone, recDeleted:
		return false, p.recipient(rec)
	}
	return false, nil
}

// parseSizeRecord reads the C record's fixed-width fields. Like showq, it trusts the record
// only when it holds nothing but digits and spaces and has at least the first three fields.
func parseSizeRecord(data []byte) sizeRecord {
	for _, c := range data {
		if c != ' ' && (c < '0' || c > '9') {
			return sizeRecord{}
		}
	}
	var f [3][]byte
	n := 0
	for rest := data; n < len(f); n++ {
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 {
			break
		}
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		f[n], rest = rest[:end], rest[end:]
	}
	if n == 0 {
		return sizeRecord{}
	}
	var s sizeRecord
	var err error
	if s.contentSize, err = strconv.ParseInt(string(f[0]), 10, 64); err != nil {
		return sizeRecord{}
	}
	s.sizeOK = true
	if n < 3 {
		return s
	}
	if s.dataOffset, err = strconv.ParseInt(string(f[1]), 10, 64); err == nil && s.contentSize > 0 && s.dataOffset > 0 {
		s.valid = true
	}
	if n, err := strconv.Atoi(string(f[2])); err == nil && n > 0 {
		s.recipients = mqsql.RecipientHint(n)
	}
	return s
}

// leadingInt parses the decimal number at the start of b, as C's atol does.
func leadingInt(b []byte) int64 {
	b = bytes.TrimLeft(b, " ")
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
