package postfix

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/mqsql/mqsql"
)

// Record type bytes as Postfix writes them (global/rec_type.h). Only the ones mqsql gives a
// meaning to are named; the per-segment sets below list every type Postfix accepts.
const (
	recSize      = 'C'
	recTime      = 'T'
	recFullName  = 'F'
	recFilter    = 'L' // content filter outside the content segment
	recCont      = 'L' // unterminated text inside the content segment
	recFrom      = 'S'
	recRcpt      = 'R'
	recDone      = 'D'
	recDeleted   = '/'
	recOrigRcpt  = 'O'
	recAttr      = 'A'
	recKill      = 'K'
	recMesg      = 'M'
	recNorm      = 'N'
	recPadding   = 'w'
	recXtra      = 'X'
	recPtr       = 'p'
	recEnd       = 'E'
	recDSNOrcpt  = 'o'
	recDSNNotify = 'n'
)

// Record types Postfix accepts in each segment (global/rec_type.h REC_TYPE_ENVELOPE,
// REC_TYPE_CONTENT, REC_TYPE_EXTRACT); 'p' is accepted everywhere.
const (
	envelopeTypes  = "MCTcFILSDRO/WVA>K<ion"
	contentTypes   = "XLNw"
	extractedTypes = "EDRO/PreAFIL>Kon"
)

// Reader limits. Postfix itself never writes a record longer than line_length_limit (2048 by
// default) except for headers cleanup already cut at header_size_limit; the caps are far above
// what Postfix writes and far below what would let a damaged length field exhaust memory.
const (
	maxRecordLen   = 1 << 20
	maxLengthBytes = 4
)

// ErrTruncated reports a file that ends inside a record: a file still being written, or one
// cut short by a full disk or a crash.
var ErrTruncated error = damage("spool: truncated record")

// damage is a damaged-file error that is also mqsql.ErrDamaged.
type damage string

func (d damage) Error() string        { return string(d) }
func (d damage) Is(target error) bool { return target == mqsql.ErrDamaged }

// A RecordError says what is wrong with a queue file and where, so that a damaged file
// becomes a message row whose error column an admin can act on.
type RecordError struct {
	Offset int64
	Msg    string
	Err    error
}

// Is makes every RecordError an mqsql.ErrDamaged.
func (e *RecordError) Is(target error) bool { return target == mqsql.ErrDamaged }

func (e *RecordError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("offset %d: %s: %v", e.Offset, e.Msg, e.Err)
	}
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

func (e *RecordError) Unwrap() error { return e.Err }

// record is one queue-file record: its type byte, where its type byte sits, and its payload.
// The payload aliases the reader's buffer and is valid until the next read.
type record struct {
	typ  byte
	off  int64
	data []byte
}

// recordReader reads records from a queue file at arbitrary offsets. Reading is positional so
// that following pointer records and jumping over the message body are cheap: only the bytes
// of records actually visited are read from disk.
type recordReader struct {
	r    io.ReaderAt
	size int64
	pos  int64

	buf    []byte // window of the file starting at bufOff
	bufOff int64

	jumps, backJumps int // pointer records followed, and those that pointed backwards
}

const windowSize = 16 << 10

// windows recycles read windows: allocating (and zeroing) 16 KB for each of a million files
// costs more than parsing them.
var windows = sync.Pool{New: func() any { b := make([]byte, 0, windowSize); return &b }}

func newRecordReader(r io.ReaderAt, size int64) *recordReader {
	return &recordReader{r: r, size: size, buf: (*windows.Get().(*[]byte))[:0]}
}

// release hands the window back for reuse. Records read before must no longer be used.
func (rr *recordReader) release() {
	if cap(rr.buf) <= 4*windowSize {
		b := rr.buf[:0]
		windows.Put(&b)
	}
	rr.buf = nil
}

// seek moves the read position; the next next() reads the record starting there.
func (rr *recordReader) seek(off int64) { rr.pos = off }

// jump continues reading at the offset pointer record rec names; 0 means "no pointer". It
// gives up, as Postfix does, after too many backward jumps, so that a pointer loop ends.
func (rr *recordReader) jump(rec record) error {
	target, err := strconv.ParseInt(string(bytes.TrimSpace(rec.data)), 10, 64)
	if err != nil || target < 0 {
		return &RecordError{Offset: rec.off, Msg: fmt.Sprintf("bad pointer record %q", rec.data)}
	}
	if target == 0 {
		return nil
	}
	if target >= rr.size {
		return &RecordError{Offset: rec.off, Msg: fmt.Sprintf("pointer to offset %d beyond the end of the file (%d bytes)", target, rr.size)}
	}
	rr.jumps++
	if target <= rec.off {
		rr.backJumps++
	}
	if rr.backJumps > maxBackwardJumps || rr.jumps > maxJumps {
		return &RecordError{Offset: rec.off, Msg: "too many pointer jumps (pointer loop)"}
	}
	rr.seek(target)
	return nil
}

// bytesAt returns n bytes at off, reading from disk only when the window does not hold them.
func (rr *recordReader) bytesAt(off int64, n int) ([]byte, error) {
	if off < 0 || off+int64(n) > rr.size {
		return nil, ErrTruncated
	}
	if off >= rr.bufOff && off+int64(n) <= rr.bufOff+int64(len(rr.buf)) {
		start := off - rr.bufOff
		return rr.buf[start : start+int64(n)], nil
	}
	want := max(n, windowSize)
	if rest := rr.size - off; int64(want) > rest {
		want = int(rest)
	}
	if cap(rr.buf) < want {
		rr.buf = make([]byte, want)
	}
	rr.buf = rr.buf[:want]
	got, err := rr.r.ReadAt(rr.buf, off)
	rr.buf = rr.buf[:got]
	rr.bufOff = off
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = ErrTruncated
		}
		return nil, err
	}
	return rr.buf[:n], nil
}

// next reads the record at the current position and advances past it. It returns io.EOF only
// at a clean end of file; a file ending inside a record gives ErrTruncated.
func (rr *recordReader) next() (record, error) {
	start := rr.pos
	if start >= rr.size {
		return record{}, io.EOF
	}
	hdr, err := rr.bytesAt(start, 1)
	if err != nil {
		return record{}, &RecordError{Offset: start, Msg: "read record type", Err: err}
	}
	typ := hdr[0]
	length, n, err := rr.length(start + 1)
	if err != nil {
		return record{}, err
	}
	dataOff := start + 1 + int64(n)
	data, err := rr.bytesAt(dataOff, length)
	if err != nil {
		return record{}, &RecordError{Offset: start, Msg: fmt.Sprintf("%q record of %d bytes", typ, length), Err: err}
	}
	rr.pos = dataOff + int64(length)
	return record{typ: typ, off: start, data: data}, nil
}

// length decodes the base-128 length that follows a type byte, least significant group first.
func (rr *recordReader) length(off int64) (length, n int, err error) {
	shift := 0
	for n = 0; n < maxLengthBytes; n++ {
		b, err := rr.bytesAt(off+int64(n), 1)
		if err != nil {
			return 0, 0, &RecordError{Offset: off - 1, Msg: "read record length", Err: err}
		}
		length |= int(b[0]&0x7f) << shift
		if b[0]&0x80 == 0 {
			if length > maxRecordLen {
				return 0, 0, &RecordError{Offset: off - 1, Msg: fmt.Sprintf("record length %d exceeds the %d-byte limit", length, maxRecordLen)}
			}
			return length, n + 1, nil
		}
		shift += 7
	}
	return 0, 0, &RecordError{Offset: off - 1, Msg: "record length has too many bytes"}
}
