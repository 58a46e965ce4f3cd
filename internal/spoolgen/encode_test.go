package spoolgen

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawRecord is one record as the framing rules of global/record.c read it.
type rawRecord struct {
	typ  byte
	off  int64
	data []byte
}

// readRecords splits a queue file into records front to back (the generator writes no
// pointer records, so physical order is logical order) and fails on bad framing.
func readRecords(t *testing.T, b []byte) []rawRecord {
	t.Helper()
	var out []rawRecord
	for off := 0; off < len(b); {
		typ := b[off]
		n, shift, i := 0, 0, off+1
		for ; ; i++ {
			if i >= len(b) || i-off > 4 {
				t.Fatalf("bad length at offset %d", off)
			}
			n |= int(b[i]&0x7f) << shift
			shift += 7
			if b[i]&0x80 == 0 {
				break
			}
		}
		start := i + 1
		if start+n > len(b) {
			t.Fatalf("record at %d runs past the end", off)
		}
		out = append(out, rawRecord{typ, int64(off), b[start : start+n]})
		off = start + n
	}
	return out
}

func sampleMessage(kind Kind) *Message {
	p := newPlanner(&Options{Messages: 1, Now: time.Unix(1795865417, 0), Deferred: 1, Bounces: 0.05, Local: 0.05, ShortIDs: 0.2, Senders: 20, MedianSize: 3 << 10, MaxSize: 8 << 20})
	for i := 0; ; i++ {
		m := p.plan(i)
		if m.Kind == kind || kind == Postdrop && i > 0 {
			if kind == Postdrop {
				m.Kind, m.Queue = Postdrop, "maildrop"
			}
			m.QueueID = LongID(m.IDSec, m.IDUsec, 4451551)
			return m
		}
	}
}

// TestEncodeLayout checks each kind of file against the layout Postfix's cleanup writes: the C
// record's fields locate M and X, count the recipient records, and the file ends at E.
func TestEncodeLayout(t *testing.T) {
	for _, kind := range []Kind{SMTP, Local, Bounce, Postdrop} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			m := sampleMessage(kind)
			b := Encode(m)
			recs := readRecords(t, b)
			if int64(len(b)) != m.FileSize {
				t.Errorf("FileSize %d, encoded %d bytes", m.FileSize, len(b))
			}
			if last := recs[len(recs)-1]; last.typ != recEnd || len(last.data) != 0 {
				t.Errorf("last record %q, want an empty E", last.typ)
			}
			checkSegments(t, m, b, recs)
			checkRecipients(t, m, recs)
		})
	}
}

func checkSegments(t *testing.T, m *Message, b []byte, recs []rawRecord) {
	t.Helper()
	if m.Kind == Postdrop {
		if recs[0].typ != recTime {
			t.Errorf("postdrop file starts with %q, want T", recs[0].typ)
		}
		return
	}
	if recs[0].typ != recSize || len(recs[0].data) != 95 {
		t.Fatalf("first record %q of %d bytes, want a 95-byte C", recs[0].typ, len(recs[0].data))
	}
	f := strings.Fields(string(recs[0].data))
	if len(f) != 6 {
		t.Fatalf("C record %q has %d fields", recs[0].data, len(f))
	}
	size, _ := strconv.ParseInt(f[0], 10, 64)
	data, _ := strconv.ParseInt(f[1], 10, 64)
	count, _ := strconv.Atoi(f[2])
	if size != m.ContentSize || data != m.DataOffset || f[4] != f[0] {
		t.Errorf("C record %v; content size %d, data offset %d", f, m.ContentSize, m.DataOffset)
	}
	if !bytes.Equal(b[data-2:data], []byte{recMesg, 0}) || !bytes.Equal(b[data+size:data+size+2], []byte{recXtra, 0}) {
		t.Errorf("M is not at %d or X not at %d", data-2, data+size)
	}
	if count != len(m.Recipients) {
		t.Errorf("C record counts %d recipients, the file has %d", count, len(m.Recipients))
	}
	if recs[1].typ != recTime || !strings.HasPrefix(string(recs[2].data), "create_time=") {
		t.Errorf("C is followed by %q %q, want T and A create_time", recs[1].typ, recs[2].data)
	}
}

// checkRecipients checks every recipient's record sits at the offset the defer log will
// name, with the O record and DSN attributes before it.
func checkRecipients(t *testing.T, m *Message, recs []rawRecord) {
	t.Helper()
	at := map[int64]int{}
	for i, r := range recs {
		at[r.off] = i
	}
	for _, r := range m.Recipients {
		i, ok := at[r.Offset]
		if !ok {
			t.Fatalf("no record at recipient offset %d", r.Offset)
		}
		want := byte(recRcpt)
		if r.Done {
			want = recDone
		}
		if recs[i].typ != want || string(recs[i].data) != r.Address {
			t.Errorf("record at %d is %q %q, want %q %q", r.Offset, recs[i].typ, recs[i].data, want, r.Address)
		}
		if r.Orig != "" && (recs[i-1].typ != recOrigRcpt || string(recs[i-1].data) != r.Orig) {
			t.Errorf("recipient %s: record before is %q %q, want O", r.Address, recs[i-1].typ, recs[i-1].data)
		}
	}
}

func TestDeferLog(t *testing.T) {
	m := &Message{Recipients: []Recipient{
		{Address: "r2@remote.test", Orig: "r2@remote.test", DSNOrig: "rfc822;r2@remote.test", Offset: 307, Deferred: true,
			DSNStatus: "4.4.1", Reason: "connect to x: Connection refused"},
		{Address: "done@remote.test", Offset: 400, Done: true, Deferred: true, DSNStatus: "4.4.1", Reason: "x"},
		{Address: "q r@remote.test", Orig: "Q@remote.test", Offset: 663, NotifyFlags: 14, Deferred: true, DSNStatus: "4.7.1",
			DiagType: "smtp", DiagText: "450 4.7.1 greylisted", MTAName: "mx1.remote.test", Reason: "host said: 450"},
		{Address: "fresh@remote.test", Offset: 700},
	}}
	want := "\n<r2@remote.test>: connect to x: Connection refused\nrecipient=r2@remote.test\noffset=307\n" +
		"dsn_orig_rcpt=rfc822;r2@remote.test\nstatus=4.4.1\naction=delayed\nreason=connect to x: Connection refused\n\n" +
		"\n<\"q r\"@remote.test>: host said: 450\nrecipient=\"q r\"@remote.test\noriginal_recipient=Q@remote.test\noffset=663\n" +
		"notify_flags=14\nstatus=4.7.1\naction=delayed\ndiag_type=smtp\ndiag_text=450 4.7.1 greylisted\nmta_type=dns\n" +
		"mta_mname=mx1.remote.test\nreason=host said: 450\n\n"
	if got := DeferLog(m); got != want {
		t.Errorf("DeferLog =\n%q\nwant\n%q", got, want)
	}
}

func TestSizePayload(t *testing.T) {
	// The C record of the m3 sample (docs/postfix-spool.md §9).
	want := "            350             394               3               0             350               0"
	if got := sizePayload([6]int64{350, 394, 3, 0, 350, 0}); got != want {
		t.Errorf("sizePayload = %q, want %q", got, want)
	}
}

func TestRecordLength(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want []byte
	}{{0, []byte{0}}, {17, []byte{0x11}}, {95, []byte{0x5f}}, {200, []byte{0xc8, 0x01}}, {2048, []byte{0x80, 0x10}}} {
		if got := appendLength(nil, tt.n); !bytes.Equal(got, tt.want) || lengthBytes(tt.n) != len(tt.want) {
			t.Errorf("length %d encodes as % x (%d bytes), want % x", tt.n, got, lengthBytes(tt.n), tt.want)
		}
	}
}
