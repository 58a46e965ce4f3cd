package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/internal/testspool"
)

// forgeSender makes the index file db say that queue ID id was sent by sender, as a stale
// row, or one written by anyone who could write the file, would: the file says otherwise.
func forgeSender(t *testing.T, db, id, sender string) {
	t.Helper()
	ix, err := index.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	res, err := ix.DB().Exec(`UPDATE queue_files SET sender = ? WHERE queue_id = ?`, sender, id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("forged %d rows", n)
	}
}

// TestWriteRechecksWhereRealPostfix is the review's forged row on a real Postfix queue: the
// index row of one message says a sender its file does not, and DELETE ... WHERE sender =
// 'forged@evil.test' is run on that index. The message is left alone, reported as changed
// since the plan, and postqueue -j still lists it; a write whose WHERE the file does match
// (the real sender) deletes it.
func TestWriteRechecksWhereRealPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	liveQueue(t, pf, map[string]int{"real@sender.test": 2})
	before := byKey(t, pf)
	var victim string
	for id := range before {
		victim = id
		break
	}
	db := filepath.Join(t.TempDir(), "idx.db")
	if r := runMQSQL(t, "", "--spool", pf.QueueDir(), "--db", db, "SELECT count(*) FROM messages"); r.code != 0 {
		t.Fatalf("index: %s", r.stderr)
	}
	forgeSender(t, db, victim, "forged@evil.test")
	backups := t.TempDir()
	r := runMQSQL(t, "", "--spool", pf.QueueDir(), "--db", db, "--yes", "--backup", backups,
		"DELETE FROM messages WHERE sender = 'forged@evil.test'")
	if !strings.Contains(r.stdout+r.stderr, "changed since the plan") {
		t.Errorf("the write does not say the message changed: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	time.Sleep(500 * time.Millisecond)
	if _, ok := byKey(t, pf)[victim]; !ok {
		t.Fatalf("%s, whose file says real@sender.test, was deleted by WHERE sender = 'forged@evil.test'", victim)
	}
	forgeSender(t, db, victim, "real@sender.test")
	forgeSubject(t, db, victim, "forged subject")
	r = runMQSQL(t, "", "--spool", pf.QueueDir(), "--db", db, "--yes", "--backup", backups,
		"DELETE FROM messages WHERE sender = 'real@sender.test' AND queue_id = '"+victim+"'")
	if r.code != 0 || strings.Contains(r.stdout, "changed since the plan") {
		t.Fatalf("delete with the file's sender: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, ok := byKey(t, pf)[victim]; ok {
		t.Errorf("%s was not deleted by the WHERE its file matches", victim)
	}
	manifests, _ := filepath.Glob(filepath.Join(backups, "*", "manifest.json"))
	if len(manifests) != 1 {
		t.Fatalf("manifests: %v", manifests)
	}
	data, _ := os.ReadFile(manifests[0])
	if !strings.Contains(string(data), "real@sender.test") || strings.Contains(string(data), "forged") {
		t.Errorf("the manifest does not say what the saved copy says:\n%s", data)
	}
}

// forgeSubject makes the index file db say that queue ID id has subject.
func forgeSubject(t *testing.T, db, id, subject string) {
	t.Helper()
	ix, err := index.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.DB().Exec(`UPDATE queue_files SET subject = ? WHERE queue_id = ?`, subject, id); err != nil {
		t.Fatal(err)
	}
}

// TestManifestAbsoluteSpool makes a backup with a relative --spool: its manifest records the
// spool's absolute path, so that it says which queue it was made of wherever it is read.
func TestManifestAbsoluteSpool(t *testing.T) {
	tmp := t.TempDir()
	if err := os.CopyFS(filepath.Join(tmp, "spool"), os.DirFS(testspool.Copy(t, testspool.Dir(t, "spool")))); err != nil {
		t.Fatal(err)
	}
	t.Chdir(tmp)
	r := runMQSQL(t, "", "--spool", "spool", "--no-cache", "--backup", "bk", "--yes", "DELETE FROM messages WHERE sender = 'brief-long@x.test'")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	manifests, _ := filepath.Glob(filepath.Join(tmp, "bk", "*", "manifest.json"))
	if len(manifests) != 1 {
		t.Fatalf("manifests: %v", manifests)
	}
	var m struct{ Spool string }
	data, _ := os.ReadFile(manifests[0])
	if err := json.Unmarshal(data, &m); err != nil || m.Spool != filepath.Join(tmp, "spool") {
		t.Errorf("manifest spool %q (%v), want %s", m.Spool, err, filepath.Join(tmp, "spool"))
	}
}
