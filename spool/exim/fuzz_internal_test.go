package exim

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseH feeds parseH (and the msglog and recipient-line parsers) variations of the real sample -H files: whatever the bytes, it
// returns a result or an error, never panics, and a parsed file's size formula stays sane.
func FuzzParseH(f *testing.F) {
	files, _ := filepath.Glob("testdata/exim/spool*/input/*-H")
	more, _ := filepath.Glob("testdata/exim/spool-split/input/*/*-H")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id := plainFuzzID
		if len(data) > 18 && ValidQueueID(string(data[:16])) {
			id = string(data[:16])
		}
		parseMsglog(data, func(string) bool { return true }, 10)
		parseRecipient(string(data))
		h, err := parseH(data, id)
		if err != nil {
			return
		}
		if n := h.size(dataStart(id), id); n < 1 {
			t.Errorf("size %d of a message with an empty body", n)
		}
		h.fields()
		for _, r := range h.recipients {
			origAddress(r.orcpt)
		}
	})
}

const plainFuzzID = "1xYTuW-00009O-26"
