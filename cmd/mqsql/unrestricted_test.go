package main

import (
	"os"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestUnrestrictedWritesNeedForce is the review's finding that a WHERE which restricts
// nothing passed the "no WHERE" refusal and acted on every message. Each such write must be
// refused without --force, leaving the spool alone; with --force the preview says it is all of
// them; a restricted write still goes through without --force.
func TestUnrestrictedWritesNeedForce(t *testing.T) {
	unrestricted := []struct{ name, sql, why string }{
		{"update from another messages", "UPDATE messages SET queue = 'hold' FROM messages AS m2 WHERE m2.sender = 'brief-long@x.test'", "names no column of messages"},
		{"where 1", "DELETE FROM messages WHERE 1", "names no column of messages"},
		{"column equals itself", "UPDATE messages SET queue = 'hold' WHERE queue_id = queue_id", "covers all 15 messages that hold can apply to"},
		{"every held message", "UPDATE messages SET queue = 'deferred' WHERE sender = sender", "covers all 1 message that release can apply to"},
	}
	for _, tt := range unrestricted {
		t.Run(tt.name, func(t *testing.T) {
			dir := testspool.Copy(t, testspool.Dir(t, "spool"))
			backup := t.TempDir()
			before := treeHash(t, dir)
			r := runMQSQL(t, "", "--spool", dir, "--backup", backup, "--yes", tt.sql)
			if r.code != 1 || !strings.Contains(r.stderr, tt.why) || !strings.Contains(r.stderr, "--force") || strings.Contains(r.stdout, "Done:") {
				t.Errorf("without --force: exit %d\nstdout: %s\nstderr: %s\nwant a refusal saying %q and naming --force", r.code, r.stdout, r.stderr, tt.why)
			}
			if treeHash(t, dir) != before {
				t.Fatal("the spool changed")
			}
			if entries, _ := os.ReadDir(backup); len(entries) != 0 {
				t.Errorf("backup folder has %d entries", len(entries))
			}
			r = runMQSQL(t, "", "--spool", dir, "--backup", backup, "--dry-run", "--force", tt.sql)
			if r.code != 0 || !strings.Contains(r.stdout, "This is every message the statement can act on: all ") {
				t.Errorf("--force --dry-run: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
		})
	}
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	r := runMQSQL(t, "", "--spool", dir, "--backup", t.TempDir(), "--yes", "UPDATE messages SET queue = 'hold' WHERE sender = 'brief-long@x.test'")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 2, skipped: 0, failed: 0.") || strings.Contains(r.stdout, "every message") {
		t.Errorf("restricted write: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
