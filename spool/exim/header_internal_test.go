package exim

import (
	"errors"
	"testing"
)

// TestParseHeadersAsExim checks the header section against what Exim 4.96's
// spool_read_header makes of it (each case's outcome checked with exim -bp on a real -H so
// edited): a record longer than it declares is an error only when the bytes left over do not
// scan as records of their own, and the size sums the declared lengths.
func TestParseHeadersAsExim(t *testing.T) {
	date := "038  Date: Mon, 07 Dec 2026 23:08:35 +0000\n"
	tests := []struct {
		name    string
		section string
		size    int64 // the header lengths exim -bp sums
		records int
		err     bool
	}{
		{"sound", "012  Subject: t1\n" + date, 50, 2, false},
		{"two bytes past: \"0\\n\" is a record of length 0", "036  Date: Mon, 07 Dec 2026 23:08:35 +0000\n012  Subject: t1\n", 48, 3, false},
		{"five bytes past: \"0000\\n\" too", "033  Date: Mon, 07 Dec 2026 23:08:35 +0000\n", 33, 2, false},
		{"six bytes past: \"+0000\\n\" is not", "032  Date: Mon, 07 Dec 2026 23:08:35 +0000\n", 32, 1, true},
		// 15 bytes past at 23h: "23:08:35 +0000\n" declares 23 bytes, running into the next
		// record; at 00h "00:04:45 +0000\n" is records of 0, 4 ("45 +") and 0 bytes: in step.
		{"15 bytes past at 23h", "023  Date: Mon, 07 Dec 2026 23:08:35 +0000\n012  Subject: t1\n", 23 + 23, 2, true},
		{"15 bytes past at 00h", "023  Date: Tue, 08 Dec 2026 00:04:45 +0000\n012  Subject: t1\n", 23 + 4 + 12, 5, false},
		{"blanks after the flag are skipped", "012 \n\t Subject: t1\n", 12, 1, false},
		{"truncated: the last length still counts", "012  Subject: t1\n" + date[:20], 50, 1, true},
		{"a NUL", "012  Subj\x00ct: t1\n", 12, 0, true},
		{"deleted records do not count", "012* Subject: t1\n" + date, 38, 2, false},
		{"a length of 20 digits is -1 to Exim", "99999999999999999999 x", -1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hfile{}
			err := h.parseHeaders([]byte(tt.section), 0)
			if (err != nil) != tt.err || (err != nil && !errors.Is(err, ErrHeaderSection)) {
				t.Errorf("error %v, want one: %v", err, tt.err)
			}
			if h.headerSize != tt.size || len(h.headers) != tt.records {
				t.Errorf("size %d records %d, want %d %d", h.headerSize, len(h.headers), tt.size, tt.records)
			}
		})
	}
}
