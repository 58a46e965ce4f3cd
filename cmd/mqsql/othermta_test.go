package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
)

// TestOtherMTAQueues reads the real Sendmail and Exim sample queues with --mta NAME, and with
// --mta auto, which recognises each; a directory that is no queue of that MTA is a usage error.
func TestOtherMTAQueues(t *testing.T) {
	tests := []struct {
		mta, dir, query, golden, notQueue string
	}{
		{"sendmail", filepath.Join("..", "..", "testdata", "sendmail", "mqueue"), // testdata/sendmail/README.md
			"SELECT queue_id, queue, sender FROM messages ORDER BY queue_id", "sendmail-messages", "not a Sendmail queue directory"},
		{"exim", filepath.Join("..", "..", "spool", "exim", "testdata", "exim", "spool"),
			"SELECT queue_id, queue, sender, size FROM messages ORDER BY queue_id", "exim-messages", "not an Exim queue directory"},
	}
	for _, tt := range tests {
		t.Run(tt.mta, func(t *testing.T) {
			r := runMQSQL(t, "", "--mta", tt.mta, "--spool", tt.dir, tt.query)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			golden.Check(t, tt.golden, []byte(r.stdout))
			auto := runMQSQL(t, "", "--spool", tt.dir, tt.query)
			if auto.code != exitOK || auto.stdout != r.stdout {
				t.Errorf("--mta auto: exit %d, %q %s", auto.code, auto.stdout, auto.stderr)
			}
			empty := runMQSQL(t, "", "--mta", tt.mta, "--spool", t.TempDir(), tt.query)
			if empty.code != exitUsage || !strings.Contains(empty.stderr, tt.notQueue) {
				t.Errorf("empty directory: exit %d, %q", empty.code, empty.stderr)
			}
		})
	}
}
