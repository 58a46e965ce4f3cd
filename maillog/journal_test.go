package maillog_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/maillog"
	"github.com/mqsql/mqsql/spool/postfix"
)

// TestReadJournal reads the journal (a stand-in journalctl printing real Postfix lines in
// journalctl's short-iso-precise format) twice, with lines added between: each line once.
func TestReadJournal(t *testing.T) {
	_, first, second, statuses := halves(t)
	journal := filepath.Join(t.TempDir(), "journal")
	t.Setenv("FAKE_JOURNAL", journal)
	old := maillog.Journalctl
	maillog.Journalctl, _ = filepath.Abs("testdata/journalctl")
	defer func() { maillog.Journalctl = old }()
	r, ix := newReader(t, &postfix.Driver{})
	for _, part := range [][]byte{first, second} {
		appendTo(t, journal, isoStamps(part))
		if _, err := r.ReadJournal(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, ix, "SELECT count(*) FROM deliveries"); got != statuses {
		t.Fatalf("%d deliveries, want %d", got, statuses)
	}
}

// isoStamps rewrites the classic "Dec 07 23:17:34" stamps as journalctl -o short-iso-precise
// prints them.
func isoStamps(b []byte) []byte {
	var out []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if len(l) > 15 && strings.HasPrefix(l, "Dec ") {
			l = "2026-12-" + strings.ReplaceAll(l[4:6], " ", "0") + "T" + l[7:15] + ".000000+00:00" + l[15:]
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, ""))
}
