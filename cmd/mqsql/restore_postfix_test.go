package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// restoredPairs parses restore's "OLD -> NEW" lines.
func restoredPairs(out string) [][2]string {
	var pairs [][2]string
	for _, m := range regexp.MustCompile(`(?m)^(\w+) -> (\w+)\b`).FindAllStringSubmatch(out, -1) {
		pairs = append(pairs, [2]string{m[1], m[2]})
	}
	return pairs
}

// deleteAndRestore deletes sender's mail with a backup and restores it on the live Postfix.
// The tests' queues hold only that sender's mail, so the delete covers every message and needs
// --force.
func deleteAndRestore(t *testing.T, pf *postfixtest.Postfix, sender string) runResult {
	t.Helper()
	return deleteAndRestoreIn(t, pf, sender, t.TempDir())
}

// deleteAndRestoreIn is deleteAndRestore with the backup base named.
func deleteAndRestoreIn(t *testing.T, pf *postfixtest.Postfix, sender, backup string) runResult {
	t.Helper()
	r := runMQSQL(t, "", "--backup", backup, "--yes", "--force", "DELETE FROM messages WHERE sender = '"+sender+"'")
	if r.code != 0 {
		t.Fatalf("delete: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	folders, _ := filepath.Glob(filepath.Join(backup, "2*"))
	if len(folders) != 1 {
		t.Fatalf("backup folders %v", folders)
	}
	r = runMQSQL(t, "", "restore", "--backup", backup, folders[0])
	if r.code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

// TestLiveRestoreBurstIDs deletes and restores a burst of 200 messages from one sender (same
// second, same sender): every printed pair must name the new file whose log_ident is the old
// ID, and no new ID may be printed twice.
func TestLiveRestoreBurstIDs(t *testing.T) {
	pf := postfixtest.Require(t)
	const sender = "burst@spam.test"
	liveQueue(t, pf, map[string]int{sender: 200})
	r := deleteAndRestore(t, pf, sender)
	pairs := restoredPairs(r.stdout)
	if len(pairs) != 200 {
		t.Fatalf("%d pairs printed, want 200:\n%s", len(pairs), r.stdout)
	}
	seen := map[string]bool{}
	for _, p := range pairs {
		if seen[p[1]] {
			t.Errorf("new ID %s printed twice", p[1])
		}
		seen[p[1]] = true
		out, err := pf.Postcat(context.Background(), "-eq", p[1])
		if err != nil || !strings.Contains(string(out), "log_ident="+p[0]+"\n") && !strings.Contains(string(out), "log_ident: "+p[0]+"\n") {
			t.Errorf("%s -> %s: the new file's envelope does not carry log_ident %s (%v):\n%s", p[0], p[1], p[0], err, out)
		}
	}
}

// TestLiveRestoreHeldStaysHeld holds seven messages, deletes and restores them: they must come
// back on hold, not in deferred.
func TestLiveRestoreHeldStaysHeld(t *testing.T) {
	pf := postfixtest.Require(t)
	const sender = "held@spam.test"
	liveQueue(t, pf, map[string]int{sender: 7, "other@ok.test": 2})
	backup := t.TempDir()
	if r := runMQSQL(t, "", "--backup", backup, "--yes", "UPDATE messages SET queue = 'hold' WHERE sender = '"+sender+"'"); r.code != 0 {
		t.Fatalf("hold: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r := deleteAndRestore(t, pf, sender)
	if err := pf.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := byKey(t, pf)
	if n := countSender(q, sender, "hold"); n != 7 || countSender(q, sender, "") != 7 {
		t.Errorf("after restore: %d of %d messages from %s held, want 7 of 7\n%s", n, countSender(q, sender, ""), sender, r.stdout)
	}
}

// TestLiveRestoreOnce restores a folder on the live Postfix, then restores it again: the
// second run is refused (exit 1, saying when and by whom), maildrop gets no file and postqueue
// lists the sender's mail once, not twice.
func TestLiveRestoreOnce(t *testing.T) {
	pf := postfixtest.Require(t)
	const sender = "once@spam.test"
	liveQueue(t, pf, map[string]int{sender: 5})
	backup := t.TempDir()
	r := deleteAndRestoreIn(t, pf, sender, backup)
	if err := pf.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countSender(byKey(t, pf), sender, ""); n != 5 {
		t.Fatalf("after the restore: %d messages from %s, want 5\n%s", n, sender, r.stdout)
	}
	folders, _ := filepath.Glob(filepath.Join(backup, "2*"))
	again := runMQSQL(t, "", "restore", "--backup", backup, folders[0])
	if again.code != exitError || !strings.Contains(again.stderr, "already restored on ") || !strings.Contains(again.stderr, " by root") {
		t.Errorf("second restore: exit %d\n%s\n%s", again.code, again.stdout, again.stderr)
	}
	if left, _ := os.ReadDir(filepath.Join(pf.QueueDir(), "maildrop")); len(left) != 0 {
		t.Errorf("a refused restore left %d files in maildrop", len(left))
	}
	if err := pf.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countSender(byKey(t, pf), sender, ""); n != 5 {
		t.Errorf("after a refused second restore: %d messages from %s, want 5", n, sender)
	}
	list := runMQSQL(t, "", "restore", backup)
	if list.code != 0 || !strings.Contains(list.stdout, "[restored ") {
		t.Errorf("listing the base: exit %d\n%s\n%s", list.code, list.stdout, list.stderr)
	}
}
