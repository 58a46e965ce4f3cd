package eximtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// HPath is the -H of message id in the spool's default queue (flat spools only).
func (e *Exim) HPath(id string) string { return filepath.Join(e.Spool, "input", id+"-H") }

// WidenReceived edits the -H of message id the way issue 27 found one damaged: tabs of its
// Received: header (the first header record Exim writes) turned into spaces, until the text
// is extra bytes longer than its record declares (at most 7 per tab). Exim wrote the file;
// only the header text changes.
func (e *Exim) WidenReceived(t testing.TB, id string, extra int) {
	t.Helper()
	e.editH(t, id, func(data []byte) []byte {
		i := bytes.Index(data, []byte("P Received:"))
		j := bytes.Index(data[max(i, 0):], []byte("\n0"))
		if i < 0 || j < 0 {
			t.Fatalf("%s: no Received: record", id)
		}
		j += i
		var out []byte
		for _, c := range data[i:j] {
			if c == '\t' && extra > 0 {
				w := min(extra, 7)
				out = append(out, bytes.Repeat([]byte(" "), w+1)...)
				extra -= w
				continue
			}
			out = append(out, c)
		}
		if extra > 0 {
			t.Fatalf("%s: too few tabs in Received:", id)
		}
		return append(append(append([]byte{}, data[:i]...), out...), data[j:]...)
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
