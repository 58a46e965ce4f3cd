package main

import (
	"strings"
	"testing"
)

// TestSpoolNamedNeedsNoBinary runs a query on each MTA's sample spool named by --spool with
// no MTA binary to be found (PATH empty; Debian's /usr/sbin has none of Exim and Sendmail
// here): nothing needs the binary, so nothing warns that it is missing.
func TestSpoolNamedNeedsNoBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tt := range []struct{ mta, spool string }{
		{"exim", "../../spool/exim/testdata/exim/spool"},
		{"sendmail", "../../testdata/sendmail/mqueue"},
		{"postfix", "../../testdata/spool"},
	} {
		t.Run(tt.mta, func(t *testing.T) {
			r := runMQSQL(t, "", "--mta", tt.mta, "--spool", tt.spool, "SELECT count(*) > 0 FROM messages")
			if r.code != exitOK || strings.Contains(r.stderr, "warning") || strings.TrimSpace(r.stdout) == "" {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
