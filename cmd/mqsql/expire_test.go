package main

import (
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestExpireInOneStatement: SET forced_expire = 1, queue = 'active' expires and schedules at
// once (held mail is expired, released and scheduled); forced_expire with any other queue is
// refused, naming the one combination allowed.
func TestExpireInOneStatement(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	backup := t.TempDir()
	r := runMQSQL(t, "", "--spool", dir, "--backup", backup, "--yes",
		"UPDATE messages SET forced_expire = 1, queue = 'active' WHERE queue_id IN ('4jc7PP1W6fzdXSJ', '4jc86b0jCBz5bb9')")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 4, skipped: 0, failed: 0.") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runMQSQL(t, "", "--spool", dir, "--header=false", "SELECT queue_id, queue, forced_expire FROM messages WHERE queue_id IN ('4jc7PP1W6fzdXSJ', '4jc86b0jCBz5bb9') ORDER BY 1")
	if want := "4jc7PP1W6fzdXSJ,incoming,1\n4jc86b0jCBz5bb9,incoming,1\n"; r.stdout != want {
		t.Errorf("after the one-statement expire: %q, want %q (%s)", r.stdout, want, r.stderr)
	}
	before := treeHash(t, dir)
	for _, q := range []string{"hold", "deferred", "maildrop"} {
		r = runMQSQL(t, "", "--spool", dir, "--backup", backup, "--yes",
			"UPDATE messages SET forced_expire = 1, queue = '"+q+"' WHERE queue_id = '4jc7R74XMszdZL1'")
		if r.code != 1 || !strings.Contains(r.stderr, "together with queue = 'active' only") {
			t.Errorf("forced_expire with queue %s: exit %d\n%s\n%s", q, r.code, r.stdout, r.stderr)
		}
	}
	if treeHash(t, dir) != before {
		t.Error("a refused statement changed the spool")
	}
}
