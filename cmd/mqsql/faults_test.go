package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/internal/testspool"
)

// bigSpool is a copy of testdata/spool plus n clones of a real queue file in hold/.
func bigSpool(t *testing.T, n int) string {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	testspool.Clone(t, dir, "hold", testspool.Dir(t, "spool/deferred/3/4jc7PP1W6fzdXSJ"), n)
	return dir
}

// smallDisk mounts a tmpfs of the given size, to run out of space on purpose.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv(postfixtest.RequireEnv) == "1" {
			t.Fatal("mounting a small file system needs root")
		}
		t.Skip("mounting a small file system needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// TestDiskFullIndex fills the disk while the index file is written: mqsql reports it, runs
// no statement, and leaves the spool untouched.
func TestDiskFullIndex(t *testing.T) {
	dir := bigSpool(t, 1500)
	before := treeHash(t, dir)
	disk := smallDisk(t, "256k")
	r := runMQSQL(t, "", "--spool", dir, "--db", filepath.Join(disk, "idx.db"), "--backup", t.TempDir(), "--yes",
		"DELETE FROM messages WHERE queue = 'hold'")
	if r.code != exitError || !strings.Contains(r.stderr, "full") || strings.Contains(r.stdout, "Done:") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if treeHash(t, dir) != before {
		t.Error("the spool changed")
	}
}

// TestDiskFullBackup fills the disk while deleted messages are backed up: nothing is deleted.
func TestDiskFullBackup(t *testing.T) {
	dir := bigSpool(t, 1500)
	before := treeHash(t, dir)
	disk := smallDisk(t, "512k")
	r := runMQSQL(t, "", "--spool", dir, "--backup", disk, "--yes", "DELETE FROM messages WHERE queue = 'hold'")
	if r.code != exitError || !strings.Contains(r.stderr, "backup failed, nothing was changed") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if treeHash(t, dir) != before {
		t.Error("the spool changed although the backup failed")
	}
}

// TestInterruptedDelete sends SIGTERM while a big delete runs: it stops between messages,
// says what it did, and the audit log records the interruption.
func TestInterruptedDelete(t *testing.T) {
	bin := buildMQSQL(t)
	const n = 3000
	dir := bigSpool(t, n)
	backup := t.TempDir()
	cmd := exec.Command(bin, "--spool", dir, "--backup", backup, "--no-backup", "--yes", "DELETE FROM messages WHERE queue = 'hold'")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	signalled := false
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if !signalled && strings.HasPrefix(sc.Text(), "Plan:") {
			cmd.Process.Signal(syscall.SIGTERM)
			signalled = true
		}
	}
	err = cmd.Wait()
	if err == nil {
		t.Fatalf("exit 0 after SIGTERM\n%s", out.String())
	}
	if !strings.Contains(out.String(), "not reached") || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stdout:\n%s\nstderr: %s", out.String(), stderr.String())
	}
	left, _ := filepath.Glob(filepath.Join(dir, "hold", "*"))
	var rec mqsql.AuditRecord
	audit, _ := os.ReadFile(filepath.Join(backup, mqsql.AuditName))
	if err := json.Unmarshal(bytes.TrimSpace(audit), &rec); err != nil {
		t.Fatalf("audit log %q: %v", audit, err)
	}
	if !rec.Interrupted || rec.Outcomes["done"]+len(left) != n+1 || len(left) == 0 {
		t.Errorf("audit %+v; %d of %d held messages left", rec, len(left), n+1)
	}
	t.Logf("deleted %d of %d before stopping", rec.Outcomes["done"], n+1)
}

// TestInterruptedIndex sends SIGINT while an index file is built: mqsql stops with an error
// and the index file stays usable (the next run completes it).
func TestInterruptedIndex(t *testing.T) {
	bin := buildMQSQL(t)
	dir := bigSpool(t, 5000)
	db := filepath.Join(t.TempDir(), "idx.db")
	cmd := exec.Command(bin, "--spool", dir, "--db", db, "SELECT count(*) FROM messages")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The WAL file appears when the index update's transaction writes: signal then.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(db + "-wal"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if err == nil || !strings.Contains(stderr.String(), "context canceled") || strings.Contains(stderr.String(), "goroutine") {
		t.Errorf("exit %v after SIGINT mid-index; stderr: %s", err, stderr.String())
	}
	r := runMQSQL(t, "", "--spool", dir, "--db", db, "--header=false", "SELECT count(*) FROM messages")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "5018" {
		t.Errorf("after the interruption: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
}

// TestPermissionDenied runs mqsql as an unprivileged user on the real queue: a clear error that
// says which privilege is needed, no stack trace, no partial answer.
func TestPermissionDenied(t *testing.T) {
	pf := postfixtest.Require(t)
	bin := publicCopy(t, buildMQSQL(t))
	cmd := exec.Command(bin, "--spool", pf.QueueDir(), "SELECT count(*) FROM messages")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Env = append(os.Environ(), "HOME=/nonexistent")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil || stdout.Len() != 0 || !strings.Contains(stderr.String(), "needs root") || strings.Contains(stderr.String(), "goroutine") {
		t.Errorf("err %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
}

// publicCopy copies a binary into a new directory others may enter, for running it as an
// unprivileged user (test temporary directories are private).
func publicCopy(t *testing.T, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mqsql-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "mqsql")
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}
