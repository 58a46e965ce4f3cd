package safefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mqsql/mqsql/internal/safefile"
)

// TestOpenFile plants what another user could leave where mqsql writes: each is refused
// before a byte changes (O_TRUNC included), and the caller's own loose file is tightened.
func TestOpenFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("owning files as another user needs root")
	}
	tests := []struct {
		name   string
		plant  func(path string) error
		reason string // "" when the open succeeds
	}{
		{"missing", func(string) error { return nil }, ""},
		{"own loose file", func(p string) error { return writeMode(p, 0o666) }, ""},
		{"link to a file", func(p string) error {
			writeMode(p+".target", 0o644)
			return os.Symlink(p+".target", p)
		}, "symbolic link"},
		{"dangling link", func(p string) error { return os.Symlink(p+".target", p) }, "symbolic link"},
		{"another user's file", func(p string) error {
			writeMode(p, 0o600)
			return os.Chown(p, 65534, 65534)
		}, "owned by uid 65534"},
		{"hard link", func(p string) error {
			writeMode(p+".other", 0o600)
			return os.Link(p+".other", p)
		}, "2 hard links"},
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "not a regular file"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := tt.plant(path); err != nil {
				t.Fatal(err)
			}
			before := contents(path)
			f, err := safefile.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
				if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 || st.Size() != 0 {
					t.Errorf("mode %v size %d, want 0600 and truncated", st.Mode().Perm(), st.Size())
				}
				return
			}
			if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err %v, want a refusal saying %q", err, tt.reason)
			}
			if after := contents(path); after != before {
				t.Errorf("refused file changed: %q, was %q", after, before)
			}
			if _, err := os.Stat(path + ".target"); tt.name == "dangling link" && err == nil {
				t.Error("the link's target was created")
			}
		})
	}
}

// TestDirs checks the directories names are opened in: another user's is refused, and a
// world-writable one only with the sticky bit, then reported as Shared.
func TestDirs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("owning files as another user needs root")
	}
	tmp := t.TempDir()
	theirs := filepath.Join(tmp, "theirs")
	os.Mkdir(theirs, 0o755)
	os.Chown(theirs, 65534, 65534)
	if _, err := safefile.OpenDir(theirs); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("another user's directory: %v", err)
	}
	if _, err := safefile.MkdirPrivate(theirs); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("another user's directory as a private one: %v", err)
	}
	if _, err := safefile.MkdirPrivate(filepath.Join(theirs, "a", "b")); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("a private directory below another user's: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(theirs, "a")); err == nil {
		t.Error("a parent was made in another user's directory")
	}
	deep, err := safefile.MkdirPrivate(filepath.Join(tmp, "x", "y", "z"))
	if err != nil {
		t.Fatal(err)
	}
	deep.Close()
	if st, err := os.Stat(filepath.Join(tmp, "x", "y")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("missing parent: %v, %v", st, err)
	}
	open := filepath.Join(tmp, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	if _, err := safefile.OpenDir(open); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("world-writable directory: %v", err)
	}
	os.Chmod(open, os.ModeSticky|0o777)
	d, err := safefile.OpenDir(open)
	if err != nil || !d.Shared() {
		t.Fatalf("sticky directory: %v, shared %v", err, d != nil && d.Shared())
	}
	d.Close()
	loose := filepath.Join(tmp, "loose")
	os.Mkdir(loose, 0o755)
	d, err = safefile.MkdirPrivate(loose)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if st, _ := os.Stat(loose); st.Mode().Perm() != 0o700 {
		t.Errorf("own directory mode %v, want 0700", st.Mode().Perm())
	}
}

func writeMode(path string, mode os.FileMode) error {
	if err := os.WriteFile(path, []byte("before\n"), mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// contents reads a regular file; anything else reads as its type (a FIFO would block).
func contents(path string) string {
	st, err := os.Lstat(path)
	if err != nil {
		return err.Error()
	}
	if !st.Mode().IsRegular() {
		return st.Mode().Type().String()
	}
	b, _ := os.ReadFile(path)
	return string(b)
}
