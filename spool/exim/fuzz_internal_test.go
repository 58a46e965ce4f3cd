package exim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// TestParseHHugeLengths gives a header record and an ACL value lengths near the int limit:
// a format error, not a panic from an overflowing bound.
func TestParseHHugeLengths(t *testing.T) {
	data, err := os.ReadFile("testdata/exim/spool/input/" + plainFuzzID + "-H")
	if err != nil {
		t.Fatal(err)
	}
	huge := []byte("9223372036854775807")
	for name, bad := range map[string][]byte{
		"header": append(append([]byte{}, data...), append(huge, "  X: y\n"...)...),
		"acl":    []byte(strings.Replace(string(data), "-deliver_firsttime\n", "-aclm _x "+string(huge)+"\nvalue\n-deliver_firsttime\n", 1)),
	} {
		if _, err := parseH(bad, plainFuzzID); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want a format error", name, err)
		}
	}
}
