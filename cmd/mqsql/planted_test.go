package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
