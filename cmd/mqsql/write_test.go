package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// treeHash summarizes a directory tree byte for byte: names, modes, sizes, mtimes, contents.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		line := fmt.Sprintf("%s %o %d %d", rel, info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			line += " " + hex.EncodeToString(h[:])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

type runResult struct {
	code           int
	stdout, stderr string
}

func runMQSQL(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return runResult{code, out.String(), errb.String()}
}

func exists(dir, rel string) bool {
	_, err := os.Lstat(filepath.Join(dir, rel))
	return err == nil
}

// TestWritesRefusedOrDryRun checks that every refusal and every dry run leaves the spool
// byte for byte as it was.
func TestWritesRefusedOrDryRun(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	backup := t.TempDir()
	before := treeHash(t, dir)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no where", []string{"--yes", "DELETE FROM messages"}, 1, "", "without WHERE"},
		{"no where update", []string{"--yes", "UPDATE messages SET queue = 'hold'"}, 1, "", "without WHERE"},
		{"other column", []string{"--yes", "UPDATE messages SET sender = 'x' WHERE 1"}, 1, "", "column sender cannot be changed"},
		{"bad queue value", []string{"--yes", "UPDATE messages SET queue = 'corrupt' WHERE 1"}, 1, "", "queue can be set to"},
		{"unexpire", []string{"--yes", "UPDATE messages SET forced_expire = 0 WHERE 1"}, 1, "", "forced_expire can only be set to 1"},
		{"both columns", []string{"--yes", "UPDATE messages SET queue = 'hold', forced_expire = 1 WHERE 1"}, 1, "", "not both"},
		{"recipients", []string{"--yes", "DELETE FROM recipients WHERE 1"}, 1, "", "recipients cannot be changed"},
		{"insert", []string{"--yes", "INSERT INTO messages (queue_id) VALUES ('x')"}, 1, "", "INSERT INTO messages is not possible"},
		{"table behind the view", []string{"--yes", "DELETE FROM queue_files WHERE 1"}, 1, "", "queue_files cannot be changed"},
		{"attach", []string{"ATTACH '/tmp/x.db' AS x"}, 1, "", "ATTACH and DETACH are not allowed"},
		{"pragma write", []string{"PRAGMA journal_mode = delete"}, 1, "", "PRAGMA journal_mode is not allowed"},
		{"drop", []string{"DROP VIEW messages"}, 1, "", "cannot be changed"},
		{"load extension", []string{"SELECT load_extension('/tmp/x.so')"}, 1, "", "extensions"},
		{"no yes in batch", []string{"DELETE FROM messages WHERE sender = 'brief-long@x.test'"}, 1, "Plan: Delete 2 messages (deferred 2).", "--yes"},
		{"dry run", []string{"--dry-run", "DELETE FROM messages WHERE sender = 'brief-long@x.test'"}, 0, "Dry run: nothing was changed.", ""},
		{"dry run all", []string{"--dry-run", "--force", "UPDATE messages SET queue = 'hold' WHERE 1"}, 0, "Plan: Hold 15 messages (deferred 15).", ""},
		{"nothing matches", []string{"--yes", "DELETE FROM messages WHERE sender = 'nobody@nowhere'"}, 0, "No messages match", ""},
		{"already held", []string{"--yes", "UPDATE messages SET queue = 'hold' WHERE queue = 'hold'"}, 0, "already in hold", ""},
		{"scratch temp table is fine", []string{"CREATE TEMP TABLE t AS SELECT queue_id FROM messages; SELECT count(*) FROM t"}, 0, "18", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--spool", dir, "--backup", backup}, tt.args...)
			r := runMQSQL(t, "", args...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q", r.code, tt.code, r.stdout, r.stderr, tt.stdout, tt.stderr)
			}
			if after := treeHash(t, dir); after != before {
				t.Fatalf("the spool changed")
			}
		})
	}
	if entries, _ := os.ReadDir(backup); len(entries) != 0 {
		t.Errorf("backup folder has %d entries after refusals and dry runs", len(entries))
	}
}

// deleteWithBackup deletes sender's mail from a copy of the sample spool with a backup, as an
// admin would with --yes, and checks that exactly n messages went. It returns the spool copy
// and the backup directory.
func deleteWithBackup(t *testing.T, sender string, n int) (dir, backup string) {
	t.Helper()
	dir = testspool.Copy(t, testspool.Dir(t, "spool"))
	backup = t.TempDir()
	r := runMQSQL(t, "", "--spool", dir, "--backup", backup, "--yes", "DELETE FROM messages WHERE sender = '"+sender+"'")
	if want := fmt.Sprintf("Done: %d, skipped: 0, failed: 0.", n); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("delete: exit %d, want %q\n%s\n%s", r.code, want, r.stdout, r.stderr)
	}
	return dir, backup
}

// TestDirectDeleteAndRestore deletes one sender's mail from an offline spool copy, checks the
// backup and audit log, and restores it through maildrop.
func TestDirectDeleteAndRestore(t *testing.T) {
	dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	for _, gone := range []string{"deferred/C/4jc7Q05hx6zdZKt", "defer/C/4jc7Q05hx6zdZKt", "deferred/9/4jc7R74XMszdZL1", "defer/9/4jc7R74XMszdZL1"} {
		if exists(dir, gone) {
			t.Errorf("%s still exists", gone)
		}
	}
	if !exists(dir, "deferred/3/4jc7PP1W6fzdXSJ") {
		t.Error("another sender's message was deleted")
	}
	folder, m := onlyBackup(t, backup)
	if len(m.Messages) != 2 || m.SQL == "" || m.Messages[0].Sender != "brief-long@x.test" || len(m.Messages[0].Recipients) != 1 || len(m.Messages[0].Logs) != 1 {
		t.Errorf("manifest: %+v", m)
	}
	checkPrivate(t, folder, 0o700)
	if got, want := tarNames(t, filepath.Join(folder, m.Archive)), savedNames(m); !slices.Equal(got, want) {
		t.Errorf("archive holds %v, manifest lists %v", got, want)
	}
	checkPrivate(t, filepath.Join(backup, mqsql.AuditName), 0o600)
	audit, _ := os.ReadFile(filepath.Join(backup, mqsql.AuditName))
	var rec mqsql.AuditRecord
	if err := json.Unmarshal(bytes.TrimSpace(audit), &rec); err != nil || rec.Outcomes["done"] != 2 || rec.Plan["delete"]["deferred"] != 2 || rec.Backup != folder {
		t.Errorf("audit record %s: %v", audit, err)
	}

	r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, folder)
	if r.code != 0 || !strings.Contains(r.stdout, "Restored: 2, failed: 0.") {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runMQSQL(t, "", "--spool", dir, "SELECT queue, count(*) FROM messages WHERE sender = 'brief-long@x.test' GROUP BY 1")
	if !strings.Contains(r.stdout, "maildrop,2") {
		t.Errorf("after restore: %s %s", r.stdout, r.stderr)
	}
}

// TestDirectUpdates holds, releases, requeues, flushes and expires on an offline spool copy.
func TestDirectUpdates(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	backup := t.TempDir()
	steps := []struct {
		sql   string
		check string // a query whose csv output must contain want
		want  string
	}{
		{"UPDATE messages SET queue = 'hold' WHERE queue_id = '4jc7PP1W6fzdXSJ'", "SELECT queue, path FROM messages WHERE queue_id = '4jc7PP1W6fzdXSJ'", "hold,hold/4jc7PP1W6fzdXSJ"},
		{"UPDATE messages SET queue = 'deferred' WHERE queue_id = '4jc7PP1W6fzdXSJ'", "SELECT queue, path FROM messages WHERE queue_id = '4jc7PP1W6fzdXSJ'", "deferred,deferred/3/4jc7PP1W6fzdXSJ"},
		{"UPDATE messages SET forced_expire = 1 WHERE queue_id = '4jc7PP1W6fzdXSJ'", "SELECT forced_expire FROM messages WHERE queue_id = '4jc7PP1W6fzdXSJ'", "\n1\n"},
		{"UPDATE messages SET forced_expire = 1 WHERE queue = 'hold'", "SELECT queue, forced_expire FROM messages WHERE queue_id = '4jc86b0jCBz5bb9'", "deferred,1"},
		{"UPDATE messages SET queue = 'active' WHERE queue_id = '4jc7Pl4JPWzdZKp'", "SELECT queue FROM messages WHERE queue_id = '4jc7Pl4JPWzdZKp'", "incoming"},
		{"UPDATE messages SET queue = 'maildrop' WHERE queue_id = '4jc7Pl6TNDzdZKr'", "SELECT queue FROM messages WHERE queue_id = '4jc7Pl6TNDzdZKr'", "maildrop"},
	}
	for _, s := range steps {
		r := runMQSQL(t, "", "--spool", dir, "--backup", backup, "--yes", s.sql)
		if r.code != 0 || !strings.Contains(r.stdout, "Done: 1, skipped: 0, failed: 0.") {
			t.Fatalf("%s: exit %d\n%s\n%s", s.sql, r.code, r.stdout, r.stderr)
		}
		r = runMQSQL(t, "", "--spool", dir, s.check)
		if !strings.Contains(r.stdout, s.want) {
			t.Errorf("after %s: %s gives %q, want %q", s.sql, s.check, r.stdout, s.want)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "incoming", "4jc7Pl4JPWzdZKp")); err != nil || st.Mode().Perm()&0o040 == 0 {
		t.Errorf("flushed file: %v, mode %v; want group read set as postqueue -i sets it", err, st)
	}
}

func checkPrivate(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != want {
		t.Errorf("%s: mode %o, want %o", path, st.Mode().Perm(), want)
	}
}

// onlyBackup returns the one backup folder under base and its manifest.
func onlyBackup(t *testing.T, base string) (string, postfix.Manifest) {
	t.Helper()
	folders, _ := filepath.Glob(filepath.Join(base, "2*"))
	if len(folders) != 1 {
		t.Fatalf("backup folders %v, want one", folders)
	}
	m, err := postfix.ReadManifest(folders[0])
	if err != nil {
		t.Fatal(err)
	}
	return folders[0], m
}

// tarNames lists the entries of a tar archive with tar(1), as an admin would.
func tarNames(t *testing.T, archive string) []string {
	t.Helper()
	out, err := exec.Command("tar", "-tf", archive).Output()
	if err != nil {
		t.Fatalf("tar -tf %s: %v", archive, err)
	}
	names := strings.Fields(string(out))
	slices.Sort(names)
	return names
}

// savedNames lists the copies a manifest says its archive holds.
func savedNames(m postfix.Manifest) []string {
	var names []string
	for _, msg := range m.Messages {
		names = append(names, msg.QueueFile)
		names = append(names, msg.Logs...)
	}
	slices.Sort(names)
	return names
}

// TestRestoreRefusesAlteredCopy changes one byte of a saved queue file in the archive:
// restore must refuse that message (its checksum no longer matches), restore the others,
// and say so.
func TestRestoreRefusesAlteredCopy(t *testing.T) {
	dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	folder, m := onlyBackup(t, backup)
	archive := filepath.Join(folder, m.Archive)
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	data[512+40] ^= 0xff // inside the first entry's data, after its 512-byte tar header
	if err := os.WriteFile(archive, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, folder)
	first := m.Messages[0].QueueID
	if r.code != exitError || !strings.Contains(r.stdout, "Restored: 1, failed: 1.") ||
		!strings.Contains(r.stderr, first+": saved copy of "+first+" does not match its checksum") {
		t.Errorf("restore of an altered archive: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestReadAfterWriteInOneScript checks that a statement after a write sees what the write did:
// the index is refreshed before it runs.
func TestReadAfterWriteInOneScript(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	r := runMQSQL(t, "", "--spool", dir, "--no-backup", "--yes", "--header=false",
		"DELETE FROM messages WHERE sender = 'brief-long@x.test'; SELECT count(*) FROM messages WHERE sender = 'brief-long@x.test'")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: 2,") || !strings.HasSuffix(r.stdout, "\n0\n") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// movingBack is an executor that first puts a message back where the plan saw it, then acts:
// the message was elsewhere while the backup was made, and is back for the delete.
type movingBack struct {
	postfix.Executor
	from, to string
}

func (m *movingBack) Apply(ctx context.Context, op mqsql.Op, q mqsql.Queue, targets []mqsql.Target) []mqsql.Outcome {
	if err := os.Rename(m.from, m.to); err != nil {
		panic(err)
	}
	return m.Executor.Apply(ctx, op, q, targets)
}

// TestNoDeleteWithoutCopy moves a planned message away while the backup is made and back
// before the delete runs: it has no copy, so it must be skipped, not deleted.
func TestNoDeleteWithoutCopy(t *testing.T) {
	ctx := context.Background()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	const id, planned = "4jc7PP1W6fzdXSJ", "deferred/3/4jc7PP1W6fzdXSJ"
	sp := testspool.Open(t, dir)
	ix := testindex.Memory(t, sp)
	var out, errb bytes.Buffer
	s, done, err := openSession(ctx, writeFlags{backupDir: t.TempDir()}, false, ix, sp, sessionIO{stdout: &out, stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	away := filepath.Join(dir, "hold", id)
	s.Confirm = func(string) (bool, error) { return true, os.Rename(filepath.Join(dir, planned), away) }
	s.Writes.Executor = &movingBack{Executor: s.Writes.Executor, from: away, to: filepath.Join(dir, planned)}
	err = s.Exec(ctx, "DELETE FROM messages WHERE queue_id = '"+id+"'")
	// The re-check right before acting may already see the message elsewhere and skip it
	// (then it stays where it was moved); either way it must still be there.
	if !exists(dir, planned) && !exists(dir, filepath.Join("hold", id)) {
		t.Fatalf("a message without a copy in the backup was deleted (err %v)\n%s\n%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "Done: 0, skipped: 1, failed: 0.") {
		t.Errorf("report: %v\n%s\n%s", err, out.String(), errb.String())
	}
}

// TestNULByteNeverHidesTheWhere is the review's critical finding: SQLite stops reading at a NUL
// byte, so "DELETE FROM messages\0 WHERE ..." was checked with its WHERE and run without it,
// deleting every message. It must be refused, from standard input, from .read and as an
// argument, and leave the spool and the backup folder untouched.
func TestNULByteNeverHidesTheWhere(t *testing.T) {
	const stmt = "DELETE FROM messages\x00 WHERE queue_id = 'nonexistent';\n"
	script := filepath.Join(t.TempDir(), "cleanup.sql")
	if err := os.WriteFile(script, []byte(stmt), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"stdin", stmt, nil},
		{"read", ".read " + script + "\n", nil},
		{"argument", "", []string{stmt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testspool.Copy(t, testspool.Dir(t, "spool"))
			backup := t.TempDir()
			before := treeHash(t, dir)
			r := runMQSQL(t, tt.stdin, append([]string{"--spool", dir, "--backup", backup, "--yes", "--force"}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, "NUL byte") || strings.Contains(r.stdout, "Done:") {
				t.Errorf("exit %d, want 1 with the NUL byte named\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if treeHash(t, dir) != before {
				t.Fatal("the spool changed")
			}
			if entries, _ := os.ReadDir(backup); len(entries) != 0 {
				t.Errorf("backup folder has %d entries: a plan was carried out", len(entries))
			}
		})
	}
}
