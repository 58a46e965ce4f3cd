package main

import (
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestMTAFlag checks --mta: a named MTA reads its queue as auto does, and an MTA mqsql does
// not know is a usage error that lists the ones it does, for queries, watch and restore.
func TestMTAFlag(t *testing.T) {
	queue := testspool.Copy(t, testspool.Dir(t, "spool"))
	for _, mta := range []string{"auto", "postfix"} {
		r := runMQSQL(t, "", "--mta", mta, "--spool", queue, "--header=false", "SELECT count(*) FROM messages")
		if r.code != exitOK || strings.TrimSpace(r.stdout) != "18" {
			t.Errorf("--mta %s: exit %d, %q %s", mta, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range [][]string{
		{"--mta", "qmail", "--spool", queue, "SELECT 1"},
		{"watch", "--mta", "qmail", "--spool", queue, "--db", t.TempDir() + "/x.db"},
		{"restore", "--mta", "qmail", "--spool", queue, t.TempDir()},
	} {
		r := runMQSQL(t, "", args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--mta qmail: unknown MTA (use postfix") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming the known MTAs", args, r.code, r.stderr)
		}
	}
}
