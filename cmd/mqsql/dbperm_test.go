package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestDBPermissionDenied runs mqsql as nobody on an index file root owns, and on one in a
// directory nobody may write: the error names the path and the access needed, not SQLite's
// "unable to open database file (14)".
func TestDBPermissionDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root")
	}
	bin := publicCopy(t, buildMQSQL(t))
	public := filepath.Dir(bin)
	sp := filepath.Join(public, "spool")
	if err := os.CopyFS(sp, os.DirFS(testspool.Dir(t, "spool"))); err != nil {
		t.Fatal(err)
	}
	owned := filepath.Join(public, "owned.db")
	if r := runMQSQL(t, "", "--spool", sp, "--db", owned, "SELECT 1"); r.code != 0 {
		t.Fatalf("building %s as root: %s", owned, r.stderr)
	}
	for _, tt := range []struct{ db, denied string }{
		{owned, owned},
		{filepath.Join(public, "new.db"), public},
	} {
		cmd := exec.Command(bin, "--spool", sp, "--db", tt.db, "SELECT count(*) FROM messages")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Env = append(os.Environ(), "HOME=/nonexistent")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		want := "--db " + tt.db + ": permission denied on " + tt.denied + ": the index needs read and write access"
		if err == nil || stdout.Len() != 0 || !strings.Contains(stderr.String(), want) || strings.Contains(stderr.String(), "(14)") {
			t.Errorf("%s: err %v\nstdout: %s\nstderr: %s\nwant: %s", tt.db, err, stdout.String(), stderr.String(), want)
		}
	}
}
