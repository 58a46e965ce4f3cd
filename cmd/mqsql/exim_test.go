package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
)

// eximSpool is the real Exim sample spool (spool/exim/testdata/exim).
var eximSpool = filepath.Join("..", "..", "spool", "exim", "testdata", "exim", "spool")

// TestEximSpool reads the sample Exim spool with --mta exim, and with --mta auto, which
// recognises it; a directory that is no Exim spool is a usage error.
func TestEximSpool(t *testing.T) {
	const query = "SELECT queue_id, queue, sender, size FROM messages ORDER BY queue_id"
	r := runMQSQL(t, "", "--mta", "exim", "--spool", eximSpool, query)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden.Check(t, "exim-messages", []byte(r.stdout))
	auto := runMQSQL(t, "", "--spool", eximSpool, query)
	if auto.code != exitOK || auto.stdout != r.stdout {
		t.Errorf("--mta auto: exit %d, %q %s", auto.code, auto.stdout, auto.stderr)
	}
	empty := runMQSQL(t, "", "--mta", "exim", "--spool", t.TempDir(), query)
	if empty.code != exitUsage || !strings.Contains(empty.stderr, "not an Exim queue directory") {
		t.Errorf("empty directory: exit %d, %q", empty.code, empty.stderr)
	}
}
