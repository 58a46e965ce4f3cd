package spoolgen

import "strconv"

// Record type bytes written by the generator (Postfix's global/rec_type.h).
const (
	recSize     = 'C'
	recTime     = 'T'
	recFullName = 'F'
	recFrom     = 'S'
	recRcpt     = 'R'
	recDone     = 'D'
	recOrigRcpt = 'O'
	recAttr     = 'A'
	recMesg     = 'M'
	recNorm     = 'N'
	recCont     = 'L'
	recXtra     = 'X'
	recEnd      = 'E'
)

// lineLimit is Postfix's line_length_limit: longer lines are stored as L records of this
// many bytes followed by an N record with the rest.
const lineLimit = 2048

// fileBuf builds a queue file in memory and knows each record's offset.
type fileBuf struct {
	b []byte
}

// off is where the next record starts.
func (f *fileBuf) off() int64 { return int64(len(f.b)) }

// rec appends one record (type, base-128 length least significant group first, payload) and
// returns the offset of its type byte.
func (f *fileBuf) rec(typ byte, payload string) int64 {
	at := f.off()
	f.b = append(f.b, typ)
	f.b = appendLength(f.b, len(payload))
	f.b = append(f.b, payload...)
	return at
}

// attr appends an A record name=value.
func (f *fileBuf) attr(name, value string) {
	n := len(name) + 1 + len(value)
	f.b = append(f.b, recAttr)
	f.b = appendLength(f.b, n)
	f.b = append(f.b, name...)
	f.b = append(f.b, '=')
	f.b = append(f.b, value...)
}

// line appends one text line of the content segment: N, or L records of lineLimit bytes
// followed by an N with the rest, as cleanup splits long lines.
func (f *fileBuf) line(s string) {
	for len(s) > lineLimit {
		f.rec(recCont, s[:lineLimit])
		s = s[lineLimit:]
	}
	f.rec(recNorm, s)
}

func appendLength(b []byte, n int) []byte {
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func lengthBytes(n int) int {
	k := 1
	for n >= 0x80 {
		n >>= 7
		k++
	}
	return k
}

// sizePayload formats the C record as cleanup rewrites it at the end: six fields of
// "%15ld" separated by single spaces, 95 bytes.
func sizePayload(fields [6]int64) string {
	b := make([]byte, 0, 95)
	for i, v := range fields {
		if i > 0 {
			b = append(b, ' ')
		}
		s := strconv.FormatInt(v, 10)
		for range 15 - len(s) {
			b = append(b, ' ')
		}
		b = append(b, s...)
	}
	return string(b)
}
