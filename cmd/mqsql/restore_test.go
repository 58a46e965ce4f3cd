package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// rewriteBackup replaces the first message's saved copy with data and updates the manifest's
// checksum to match, as someone who can write the backup folder could.
func rewriteBackup(t *testing.T, folder string, m postfix.Manifest, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: m.Messages[0].QueueFile, Mode: 0o600, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(data)
	tw.Close()
	if err := os.WriteFile(filepath.Join(folder, m.Archive), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	m.Messages = m.Messages[:1]
	m.Messages[0].SHA256 = hex.EncodeToString(sum[:])
	writeManifest(t, folder, m)
}

func writeManifest(t *testing.T, folder string, m postfix.Manifest) {
	t.Helper()
	js, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(folder, postfix.ManifestName), js, 0o600); err != nil {
		t.Fatal(err)
	}
}

// forgedEnvelope is a well-formed queue file (C, T, S, R, M, N, X, E records) whose sender is
// not the manifest's.
func forgedEnvelope() []byte {
	rec := func(typ byte, s string) []byte { return append([]byte{typ, byte(len(s))}, s...) }
	var b []byte
	for _, r := range [][]byte{rec('C', "             5             50 1 1 5"), rec('T', "1700000000 0"), rec('S', "attacker@evil.test"),
		rec('R', "victim@example.net"), rec('M', ""), rec('N', "hello"), rec('X', ""), rec('E', "")} {
		b = append(b, r...)
	}
	return b
}

// TestRestoreRefusesForeignContent puts a shell script and a forged envelope into a backup
// with checksums that match: restore must refuse both, say why, and drop nothing in maildrop.
func TestRestoreRefusesForeignContent(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		why  string
	}{
		{"shell script", []byte("#!/bin/sh\nrm -rf /\n"), "is not a complete Postfix queue file"},
		{"forged envelope", forgedEnvelope(), `has sender "attacker@evil.test"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
			folder, m := onlyBackup(t, backup)
			rewriteBackup(t, folder, m, c.data)
			r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, folder)
			if r.code != exitError || !strings.Contains(r.stdout, "Restored: 0, failed: 1.") || !strings.Contains(r.stderr, c.why) {
				t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if left, _ := os.ReadDir(filepath.Join(dir, "maildrop")); len(left) != 1 || left[0].Name() != "4jc7TM2lKGzdt5T" {
				t.Errorf("maildrop holds %v after a refused restore, want only the sample's own file", left)
			}
		})
	}
}

// TestRestoreFIFOArchive replaces the archive with a FIFO nobody writes: restore must refuse
// it promptly instead of blocking on open or read.
func TestRestoreFIFOArchive(t *testing.T) {
	dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	folder, m := onlyBackup(t, backup)
	archive := filepath.Join(folder, m.Archive)
	os.Remove(archive)
	if err := syscall.Mkfifo(archive, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan runResult, 1)
	go func() { done <- runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, folder) }()
	select {
	case r := <-done:
		if r.code != exitError || !strings.Contains(r.stderr, "is not a regular file") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("restore of a FIFO archive still runs after 10 s")
	}
}

// TestRestoreRefusesOtherSpool restores a backup into another spool than the one it was made
// of, and a backup folder others can write: both are refused before anything is read.
func TestRestoreRefusesOtherSpool(t *testing.T) {
	_, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	folder, _ := onlyBackup(t, backup)
	other := testspool.Copy(t, testspool.Dir(t, "spool"))
	r := runMQSQL(t, "", "restore", "--spool", other, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "was made of the spool") || !strings.Contains(r.stdout, "Restored: 0, failed: 1.") {
		t.Errorf("other spool: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if err := os.Chmod(folder, 0o777); err != nil {
		t.Fatal(err)
	}
	r = runMQSQL(t, "", "restore", "--spool", other, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "is writable by group or others") {
		t.Errorf("writable folder: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestRestoreListsBackupBase names the backup base instead of a statement folder: restore
// lists the folders with their time, counts and SQL and changes nothing.
func TestRestoreListsBackupBase(t *testing.T) {
	dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	folder, _ := onlyBackup(t, backup)
	r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, backup)
	want := folder + "  "
	if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "2 messages (deferred 2)  DELETE FROM messages WHERE sender = 'brief-long@x.test'") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "maildrop")); len(left) != 1 {
		t.Errorf("listing a base changed maildrop: %v", left)
	}
}

// TestRestoreRecordsMapping restores a folder twice (the second time with --again): each run
// leaves its own record of old ID -> maildrop name (new ID on live Postfix) in the folder, and
// the audit record lists it too.
func TestRestoreRecordsMapping(t *testing.T) {
	dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	folder, m := onlyBackup(t, backup)
	for i, name := range []string{postfix.RestoredName, "restored.2.json"} {
		if r := runMQSQL(t, "", "restore", "--again", "--spool", dir, "--backup", backup, folder); r.code != 0 {
			t.Fatalf("restore %d: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
		data, err := os.ReadFile(filepath.Join(folder, name))
		var rec struct{ Messages []mqsql.RestoredID }
		if err == nil {
			err = json.Unmarshal(data, &rec)
		}
		if err != nil || len(rec.Messages) != 2 || rec.Messages[0].QueueID != m.Messages[0].QueueID || rec.Messages[0].Maildrop == "" || rec.Messages[0].Queue != "deferred" {
			t.Errorf("%s: %v\n%s", name, err, data)
		}
	}
	audit, _ := os.ReadFile(filepath.Join(backup, mqsql.AuditName))
	lines := bytes.Split(bytes.TrimSpace(audit), []byte("\n"))
	var rec mqsql.AuditRecord
	if err := json.Unmarshal(lines[len(lines)-1], &rec); err != nil || len(rec.Restored) != 2 || rec.Restored[1].QueueID != m.Messages[1].QueueID {
		t.Errorf("audit record %s: %v", lines[len(lines)-1], err)
	}
}
