package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
)

// sendmailQueue is the real Sendmail sample queue (testdata/sendmail/README.md).
var sendmailQueue = filepath.Join("..", "..", "testdata", "sendmail", "mqueue")

// TestSendmailQueue reads the sample Sendmail queue with --mta sendmail, and with --mta auto,
// which recognises it; a directory that is no Sendmail queue is a usage error.
func TestSendmailQueue(t *testing.T) {
	const query = "SELECT queue_id, queue, sender FROM messages ORDER BY queue_id"
	r := runMQSQL(t, "", "--mta", "sendmail", "--spool", sendmailQueue, query)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden.Check(t, "sendmail-messages", []byte(r.stdout))
	auto := runMQSQL(t, "", "--spool", sendmailQueue, query)
	if auto.code != exitOK || auto.stdout != r.stdout {
		t.Errorf("--mta auto: exit %d, %q %s", auto.code, auto.stdout, auto.stderr)
	}
	empty := runMQSQL(t, "", "--mta", "sendmail", "--spool", t.TempDir(), query)
	if empty.code != exitUsage || !strings.Contains(empty.stderr, "not a Sendmail queue directory") {
		t.Errorf("empty directory: exit %d, %q", empty.code, empty.stderr)
	}
}
