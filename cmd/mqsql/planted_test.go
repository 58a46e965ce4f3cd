package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/internal/testuser"
)

// TestWatchPlantedWatchFile runs mqsql watch --db FILE as root in a folder a second local
// user owns, where that user planted FILE.watch as a link to a file of root's, or as a
// dangling link to where root would create one (/etc/nologin in the review): the watcher is
// refused before it writes a byte, and nothing appears at the link's target.
func TestWatchPlantedWatchFile(t *testing.T) {
	u := testuser.New(t)
	sp := testspool.Dir(t, "spool")
	for _, dangling := range []bool{false, true} {
		target := filepath.Join(t.TempDir(), "shadow")
		if !dangling {
			if err := os.WriteFile(target, []byte("root:secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		dir := u.Dir(t)
		u.Sh(t, `ln -s "$1" "$2"`, target, filepath.Join(dir, "idx.db.watch"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var errb bytes.Buffer
		code := run(ctx, []string{"watch", "--spool", sp, "--db", filepath.Join(dir, "idx.db")}, nil, io.Discard, &errb)
		timedOut := ctx.Err() != nil
		cancel()
		if code == exitOK || timedOut {
			t.Errorf("dangling %v: mqsql watch exited %d (timed out: %v): %s", dangling, code, timedOut, errb.String())
		}
		b, err := os.ReadFile(target)
		switch {
		case dangling && err == nil:
			t.Errorf("mqsql watch created the dangling link's target: %q", b)
		case !dangling && string(b) != "root:secret\n":
			t.Errorf("mqsql watch wrote through the link: %q", b)
		}
	}
}

// TestCachePlanted runs mqsql as root with XDG_CACHE_HOME, or TMPDIR, in a second local
// user's tree (su without -, sudo -E), where that user planted a FIFO as the cache's lock, or
// made the cache folder a link to a folder of root's: the run is neither hung nor redirected.
// It warns, indexes the queue in a temporary index instead, deletes and creates nothing in
// root's folder; a TMPDIR of the user's is refused, with nothing made in it.
func TestCachePlanted(t *testing.T) {
	u := testuser.New(t)
	sp := testspool.Dir(t, "spool")
	name := cacheName("postfix", sp)
	rootDir := t.TempDir()
	precious := filepath.Join(rootDir, name)
	if err := os.WriteFile(precious, []byte("root's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifoHome, linkHome := u.Dir(t), u.Dir(t)
	u.Sh(t, `mkdir -m 700 "$1/mqsql" && mkfifo "$1/mqsql/$2.lock"`, fifoHome, name)
	u.Sh(t, `ln -s "$1" "$2/mqsql"`, rootDir, linkHome)
	for _, tt := range []struct {
		name, xdg, tmp string
		ok             bool
	}{
		{"fifo as the lock", fifoHome, t.TempDir(), true},
		{"cache folder a link to root's", linkHome, t.TempDir(), true},
		{"TMPDIR theirs", t.TempDir(), u.Dir(t), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("TMPDIR", tt.tmp)
			args := []string{"--spool", sp, "--header=false", "SELECT count(*) FROM messages"}
			if !tt.ok { // a write needs an index (a read with --no-cache reads the spool directly)
				args = []string{"--no-cache", "--dry-run", "--spool", sp, "DELETE FROM messages WHERE sender = 'nobody@x.test'"}
			}
			done := make(chan runResult, 1)
			go func() { done <- runMQSQL(t, "", args...) }()
			var r runResult
			select {
			case r = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("mqsql hung")
			}
			if (r.code == exitOK) != tt.ok {
				t.Errorf("exit %d, want success %v\n%s", r.code, tt.ok, r.stderr)
			}
			if tt.ok && !strings.Contains(r.stderr, "not using the cache index") {
				t.Errorf("no warning about the cache: %s", r.stderr)
			}
			if b, err := os.ReadFile(precious); err != nil || string(b) != "root's\n" {
				t.Errorf("root's file in the linked folder: %q, %v", b, err)
			}
			if left, _ := filepath.Glob(filepath.Join(rootDir, "*.lock")); len(left) != 0 {
				t.Errorf("created in root's folder: %v", left)
			}
			if left, _ := filepath.Glob(filepath.Join(tt.tmp, "*")); !tt.ok && len(left) != 0 {
				t.Errorf("created in their TMPDIR: %v", left)
			}
		})
	}
}
