package saferoot_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql/internal/saferoot"
)

// TestNoLinkIsFollowed plants links as the last component and as a directory on the way, and
// checks that opening or lstat'ing through them fails with ErrSymlink, while real files, at the
// top and below, open.
func TestNoLinkIsFollowed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600))
	must(os.Mkdir(filepath.Join(dir, "q"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "q", "file"), []byte("mail"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "top"), []byte("mail"), 0o600))
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "q", "link")))
	must(os.Symlink(outside, filepath.Join(dir, "dirlink")))
	r, err := saferoot.Open(dir)
	must(err)
	defer r.Close()
	for _, rel := range []string{"q/file", "top"} {
		f, err := r.Open(rel, false)
		if err != nil {
			t.Errorf("open %s: %v", rel, err)
			continue
		}
		f.Close()
		if _, err := r.Lstat(rel); err != nil {
			t.Errorf("lstat %s: %v", rel, err)
		}
	}
	if _, err := r.Open("q/link", false); !errors.Is(err, saferoot.ErrSymlink) {
		t.Errorf("open q/link: %v, want ErrSymlink", err)
	}
	for _, rel := range []string{"dirlink/secret", "../" + filepath.Base(outside) + "/secret"} {
		if _, err := r.Open(rel, false); err == nil {
			t.Errorf("open %s: opened a file outside the root", rel)
		}
	}
	if _, err := r.Lstat("dirlink/secret"); err == nil {
		t.Error("lstat dirlink/secret: went through the link")
	}
}
