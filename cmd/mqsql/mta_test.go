package main

import (
	"os"
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

// TestDefaultIndexLeavesNothing checks that a run with --no-cache, whose index is a temporary
// file, removes it when it ends, also after a failing statement.
func TestDefaultIndexLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	queue := testspool.Dir(t, "spool")
	if r := runMQSQL(t, "", "--no-cache", "--spool", queue, "--header=false", "SELECT count(*) FROM messages"); r.code != exitOK || strings.TrimSpace(r.stdout) != "18" {
		t.Fatalf("exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
	if r := runMQSQL(t, "", "--no-cache", "--spool", queue, "SELECT nosuchcolumn FROM messages"); r.code != exitError {
		t.Fatalf("a failing statement: exit %d, %s", r.code, r.stderr)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("TMPDIR holds %v after the runs", left)
	}
}
