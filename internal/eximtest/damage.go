package eximtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// HPath is the -H of message id in the spool's default queue (flat spools only).
func (e *Exim) HPath(id string) string { return filepath.Join(e.Spool, "input", id+"-H") }

// FoldedMessage is a message with a folded header whose text ends in digits, for
// WidenHeader: its X-Folded: header has three tabs and ends "the year 2000\n", so what is
// left over when it is read short is fixed (a Received: header ends in the time of day,
// which makes the left-over bytes, and Exim's reading of them, change with the clock).
const FoldedMessage = "Subject: test message\nX-Folded: one\n\ttwo\n\tthe year 2000\n\tthe year 2000\n\nbody\n"

// WidenHeader edits the -H of message id the way issue 27 found one damaged: tabs of its
// header called name turned into spaces, until the text is extra bytes longer than its
// record declares (at most 7 per tab). Exim wrote the file; only the header text changes.
func (e *Exim) WidenHeader(t testing.TB, id, name string, extra int) {
	t.Helper()
	e.editH(t, id, func(data []byte) []byte {
		i := bytes.Index(data, []byte(" "+name+":"))
		j := -1
		if i >= 0 {
			j = bytes.IndexFunc(data[i:], func(r rune) bool { return r == '\n' })
		}
		if i < 0 || j < 0 {
			t.Fatalf("%s: no %s: record", id, name)
		}
		end := i + j + 1 // the record ends at a newline followed by a length, or the file's end
		for end < len(data) && !('0' <= data[end] && data[end] <= '9') {
			k := bytes.IndexByte(data[end:], '\n')
			if k < 0 {
				end = len(data)
				break
			}
			end += k + 1
		}
		var out []byte
		for _, c := range data[i:end] {
			if c == '\t' && extra > 0 {
				w := min(extra, 7)
				out = append(out, bytes.Repeat([]byte(" "), w+1)...)
				extra -= w
				continue
			}
			out = append(out, c)
		}
		if extra > 0 {
			t.Fatalf("%s: too few tabs in %s:", id, name)
		}
		return append(append(append([]byte{}, data[:i]...), out...), data[end:]...)
	})
}

// TruncateH cuts the last n bytes off the -H of message id.
func (e *Exim) TruncateH(t testing.TB, id string, n int) {
	t.Helper()
	e.editH(t, id, func(data []byte) []byte { return data[:len(data)-n] })
}

// editH rewrites the -H of message id in place with edit (keeping its inode, owner and mode).
func (e *Exim) editH(t testing.TB, id string, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(e.HPath(id))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.HPath(id), edit(data), 0o640); err != nil {
		t.Fatal(err)
	}
}
