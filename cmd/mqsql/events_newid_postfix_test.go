package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
)

// queryDB runs one statement on the index file db and returns its rows as list lines.
func queryDB(t *testing.T, dir, db, query string) string {
	t.Helper()
	r := runMQSQL(t, "", "--spool", dir, "--db", db, "--format", "list", "--header=false", query)
	if r.code != 0 {
		t.Fatalf("%s: exit %d\n%s", query, r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// awaitQuery polls query until it answers want, and fails showing every event when it does
// not within 30 seconds.
func awaitQuery(t *testing.T, dir, db, query, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = queryDB(t, dir, db, query); got == want {
			return
		}
	}
	all := queryDB(t, dir, db, "SELECT * FROM events")
	t.Fatalf("%s\ngot:\n%s\nwant:\n%s\nall events:\n%s", query, got, want, all)
}

// sqlList quotes ids for an IN (…) list.
func sqlList(ids []string) string {
	return "'" + strings.Join(ids, "', '") + "'"
}

// wakePickup asks Postfix's pickup to scan maildrop now, as restore does. postkick fails
// (broken pipe) while master is replacing a pickup process that just exited, so it is tried
// again a few times; a pickup that never takes the mail fails the test's wait for its events.
func wakePickup(ctx context.Context, t *testing.T) {
	t.Helper()
	var err error
	var out []byte
	for range 10 {
		if out, err = exec.CommandContext(ctx, "postkick", "public", "pickup", "W").CombinedOutput(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("postkick, 10 tries: %v: %s (waiting for pickup's own timer)", err, out)
}

// TestEventsSayWhyRequeued requeues mail with mqsql on an index that mqsql watch keeps. pickup
// gives each message a new queue ID; the arrival of every new ID says "requeued by mqsql" with
// the statement's audit ID, as do the old IDs' last events.
func TestEventsSayWhyRequeued(t *testing.T) {
	pf, ctx, _, db, _ := watchedQueue(t) // three messages from before@sender.test, deferred
	dir, backup := pf.QueueDir(), t.TempDir()
	old := strings.Fields(queryDB(t, dir, db, "SELECT queue_id FROM messages WHERE sender = 'before@sender.test'"))
	if len(old) != 3 {
		t.Fatalf("queued IDs %v, want 3", old)
	}
	r := runMQSQL(t, "", "--spool", dir, "--db", db, "--backup", backup, "--yes", "--force",
		"UPDATE messages SET queue = 'maildrop' WHERE sender = 'before@sender.test'")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 3, skipped: 0, failed: 0.") {
		t.Fatalf("requeue: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wakePickup(ctx, t)
	id := auditIDs(t, filepath.Join(backup, mqsql.AuditName), 1)[0]
	awaitQuery(t, dir, db, `SELECT event, coalesce(reason, '-'), count(*), coalesce(max(audit_id), '-') FROM events
		WHERE sender = 'before@sender.test' AND event = 'arrived' AND queue_id NOT IN (`+sqlList(old)+`) GROUP BY 1, 2`,
		"arrived|requeued by mqsql|3|"+id)
	awaitQuery(t, dir, db, `SELECT count(*) FROM messages WHERE queue_id IN (`+sqlList(old)+`)`, "0")
	awaitQuery(t, dir, db, `SELECT coalesce(reason, '-'), coalesce(audit_id, '-') FROM events
		WHERE queue_id IN (`+sqlList(old)+`) AND event = 'left' GROUP BY 1, 2`, "requeued by mqsql|"+id)
}

// TestEventsSayWhyRestored deletes mail with mqsql and restores it with restore --db on an
// index that mqsql watch keeps: the new IDs' arrivals say "restored by mqsql" with the
// restore's audit ID, and whatever the watcher saw of the copies in maildrop says so too.
func TestEventsSayWhyRestored(t *testing.T) {
	pf, _, _, db, _ := watchedQueue(t) // three messages from before@sender.test, deferred
	dir, backup := pf.QueueDir(), t.TempDir()
	r := runMQSQL(t, "", "--spool", dir, "--db", db, "--backup", backup, "--yes", "--force",
		"DELETE FROM messages WHERE sender = 'before@sender.test'")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 3, skipped: 0, failed: 0.") {
		t.Fatalf("delete: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	awaitQuery(t, dir, db, "SELECT count(*) FROM events WHERE event = 'left' AND reason = 'deleted by mqsql'", "3")
	folders, _ := filepath.Glob(filepath.Join(backup, "2*"))
	if len(folders) != 1 {
		t.Fatalf("backup folders %v", folders)
	}
	r = runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, "--db", db, folders[0])
	pairs := restoredPairs(r.stdout)
	if r.code != 0 || len(pairs) != 3 || r.stderr != "" {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var old, fresh []string
	for _, p := range pairs {
		old, fresh = append(old, p[0]), append(fresh, p[1])
	}
	id := auditIDs(t, filepath.Join(backup, mqsql.AuditName), 2)[1]
	awaitQuery(t, dir, db, `SELECT event, coalesce(reason, '-'), count(*), coalesce(max(audit_id), '-') FROM events
		WHERE event = 'arrived' AND queue_id IN (`+sqlList(fresh)+`) GROUP BY 1, 2`, "arrived|restored by mqsql|3|"+id)
	if got := queryDB(t, dir, db, `SELECT count(*) FROM events WHERE queue_id IN (`+sqlList(old)+`)
		AND 'maildrop' IN (from_queue, to_queue) AND (reason IS NOT 'restored by mqsql' OR audit_id IS NOT '`+id+`')`); got != "0" {
		t.Errorf("%s events of the copies in maildrop do not say 'restored by mqsql':\n%s", got, queryDB(t, dir, db, "SELECT * FROM events"))
	}
}
