package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
)

// TestEventsSayWhy holds and then deletes mail with mqsql on an index that mqsql watch keeps,
// and deletes another message with postsuper behind mqsql's back. The events the watcher
// records say "held by mqsql" and "deleted by mqsql" with the statements' audit IDs, and
// nothing for what Postfix's own tool did.
func TestEventsSayWhy(t *testing.T) {
	pf, ctx, _, db, _ := watchedQueue(t) // three messages from before@sender.test, deferred
	sendAndSettle(ctx, t, pf, "other", 1)
	backup := t.TempDir()
	for i, stmt := range []string{
		"UPDATE messages SET queue = 'hold' WHERE sender = 'before@sender.test'",
		"DELETE FROM messages WHERE sender = 'before@sender.test'",
	} {
		r := runMQSQL(t, "", "--spool", pf.QueueDir(), "--db", db, "--backup", backup, "--yes", stmt)
		if r.code != 0 || !strings.Contains(r.stdout, "Done: 3, skipped: 0, failed: 0.") {
			t.Fatalf("%s: exit %d\n%s\n%s", stmt, r.code, r.stdout, r.stderr)
		}
		// The DELETE reads the index the watcher keeps: let it see the hold first.
		for deadline := time.Now().Add(10 * time.Second); i == 0 && countQuery(t, pf.QueueDir(), db, "hold") != "3"; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the watcher did not see the held mail")
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "postsuper", "-d", "ALL", "deferred").CombinedOutput(); err != nil {
		t.Fatalf("postsuper -d: %v: %s", err, out)
	}
	ids := auditIDs(t, filepath.Join(backup, mqsql.AuditName), 2)
	want := "left|-|1|-\nleft|deleted by mqsql|3|" + ids[1] + "\nmoved|held by mqsql|3|" + ids[0]
	query := `SELECT event, coalesce(reason, '-'), count(*), coalesce(max(audit_id), '-') FROM events
		WHERE sender IN ('before@sender.test', 'other@sender.test') AND event IN ('moved', 'left')
		GROUP BY 1, 2 ORDER BY 1, 2`
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r := runMQSQL(t, "", "--spool", pf.QueueDir(), "--db", db, "--format", "list", "--header=false", query)
		if got = strings.TrimSpace(r.stdout); got == want {
			return
		}
	}
	all := runMQSQL(t, "", "--spool", pf.QueueDir(), "--db", db, "--format", "list", "SELECT * FROM events")
	t.Errorf("events:\n%s\nwant:\n%s\nall events:\n%s", got, want, all.stdout)
}

// auditIDs returns the IDs of the audit records in the log, oldest first; there must be n.
func auditIDs(t *testing.T, log string, n int) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec mqsql.AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	if len(ids) != n {
		t.Fatalf("%d audit records, want %d", len(ids), n)
	}
	return ids
}
