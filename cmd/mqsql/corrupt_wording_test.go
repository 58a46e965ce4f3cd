package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestCorruptInDriversWords: a statement on corrupt mail leaves it alone, saying why in the
// words of the queue's own MTA (Postfix's corrupt/ directory, Sendmail's lost Qf, Exim's -H
// without its -D), never another MTA's, and changes nothing.
func TestCorruptInDriversWords(t *testing.T) {
	exim := testspool.Copy(t, filepath.Join("..", "..", "spool", "exim", "testdata", "exim", "spool"))
	if err := os.Remove(filepath.Join(exim, "input", "1xYTuW-00009O-26-D")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mta, spool, want, notWant string
	}{
		{"postfix", testspool.Copy(t, testspool.Dir(t, "spool")), "files in corrupt/ are not queued mail; Postfix's tools", "Sendmail"},
		{"sendmail", sendmailSample(t), "a Qf file is a control file Sendmail set aside as lost", "Postfix"},
		{"exim", exim, "a -H that Exim cannot read, or whose -D is missing", "Postfix"},
	} {
		for _, stmt := range []string{"DELETE FROM messages WHERE queue = 'corrupt'", "UPDATE messages SET queue = 'hold' WHERE queue = 'corrupt'"} {
			before := treeHash(t, tc.spool)
			r := runMQSQL(t, "", "--mta", tc.mta, "--spool", tc.spool, "--backup", t.TempDir(), "--yes", stmt)
			if r.code != exitOK || !strings.Contains(r.stdout, "(corrupt): "+tc.want) || strings.Contains(r.stdout, tc.notWant) {
				t.Errorf("%s: %s: exit %d\n%s%s", tc.mta, stmt, r.code, r.stdout, r.stderr)
			}
			if treeHash(t, tc.spool) != before {
				t.Errorf("%s: %s changed the queue", tc.mta, stmt)
			}
		}
	}
}
