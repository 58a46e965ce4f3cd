package index_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testuser"
)

// TestOwnerPlanted has a second local user plant, where root's watcher claims an index, what
// they could: a link to a file of root's, a dangling link to where root would create a file, a
// FIFO, a link as the index's folder. Claiming and looking for the owner refuse each at once:
// no byte reaches the link's target, nothing is created there, nothing blocks.
func TestOwnerPlanted(t *testing.T) {
	u := testuser.New(t)
	tests := []struct {
		name  string
		plant func(t *testing.T, target string) (db string)
	}{
		{"link to root's file in their folder", func(t *testing.T, target string) string {
			dir := u.Dir(t)
			u.Sh(t, `ln -s "$1" "$2"`, target, filepath.Join(dir, "idx.db.watch"))
			return filepath.Join(dir, "idx.db")
		}},
		{"dangling link in their folder", func(t *testing.T, target string) string {
			dir := u.Dir(t)
			u.Sh(t, `ln -s "$1" "$2"`, target+".new", filepath.Join(dir, "idx.db.watch"))
			return filepath.Join(dir, "idx.db")
		}},
		{"fifo in their folder", func(t *testing.T, target string) string {
			dir := u.Dir(t)
			u.Sh(t, `mkfifo "$1"`, filepath.Join(dir, "idx.db.watch"))
			return filepath.Join(dir, "idx.db")
		}},
		{"link in a sticky folder everyone writes", func(t *testing.T, target string) string {
			dir := testuser.Sticky(t)
			u.Sh(t, `ln -s "$1" "$2"`, target, filepath.Join(dir, "idx.db.watch"))
			return filepath.Join(dir, "idx.db")
		}},
		{"their folder is a link to root's", func(t *testing.T, target string) string {
			dir := u.Dir(t)
			u.Sh(t, `ln -s "$1" "$2"`, filepath.Dir(target), filepath.Join(dir, "link"))
			return filepath.Join(dir, "link", "idx.db")
		}},
		{"fifo in root's folder", func(t *testing.T, target string) string {
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, "idx.db.watch"), 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "idx.db")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "shadow")
			if err := os.WriteFile(target, []byte("root:secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			db := tt.plant(t, target)
			within(t, "ClaimIndex", func() {
				if o, err := index.ClaimIndex(db); err == nil {
					o.Release()
					t.Error("ClaimIndex accepted the planted file")
				}
			})
			within(t, "IndexOwner", func() {
				if _, live, err := index.IndexOwner(db); err == nil && live {
					t.Error("IndexOwner reported a live owner")
				}
			})
			if b, _ := os.ReadFile(target); string(b) != "root:secret\n" {
				t.Errorf("the link's target was written: %q", b)
			}
			for _, made := range []string{target + ".new", filepath.Join(filepath.Dir(target), "idx.db.watch")} {
				if _, err := os.Lstat(made); err == nil {
					t.Errorf("%s was created through the planted link", made)
				}
			}
		})
	}
}

// within fails t when f does not return within 5 seconds (a FIFO opened for writing without
// O_NONBLOCK blocks until someone reads it).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s blocked", what)
	}
}
