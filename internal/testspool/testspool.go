// Package testspool prepares copies of the queue trees in testdata for tests. Git keeps only
// one bit of a file's mode, so a checked-out queue file is 0755 or 0644; Postfix's complete
// files are 0700, and a checkout's group-execute bit would read as forced expiration. Tests
// read a copy whose modes say what the checked-in bit means.
package testspool

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mqsql/mqsql/spool/postfix"
)

// Dir returns the path of a folder under the module's testdata directory.
func Dir(t testing.TB, rel string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testspool: cannot locate the module")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", rel)
}

// Copy copies the tree at src into a new temporary directory: files whose owner-execute bit
// is set become 0700 (complete queue files), others 0600, directories 0700. It returns the
// copy's path.
func Copy(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if d.Name() == ".gitkeep" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o600)
		if info.Mode()&0o100 != 0 {
			mode = 0o700
		}
		if err := os.WriteFile(target, b, mode); err != nil {
			return err
		}
		return os.Chmod(target, mode) // WriteFile's mode is subject to the umask
	})
	if err != nil {
		t.Fatalf("testspool: copy %s: %v", src, err)
	}
	return dst
}

// Clone fills queue (a directory under spoolDir, created if missing) with n complete copies
// of the queue file at src, named with distinct valid short queue IDs, for tests that need a
// big spool of real files. It returns the IDs.
func Clone(t testing.TB, spoolDir, queue, src string, n int) []string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("testspool: %v", err)
	}
	dir := filepath.Join(spoolDir, queue)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("testspool: %v", err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("F%05X%06X", i&0xfffff, i)
		if err := os.WriteFile(filepath.Join(dir, ids[i]), data, 0o700); err != nil {
			t.Fatalf("testspool: %v", err)
		}
	}
	return ids
}

// Open opens the spool at dir with Postfix's default hashing (deferred and defer, depth 1),
// which the trees in testdata and the generated spools use, and closes it when the test ends.
func Open(t testing.TB, dir string) *postfix.Spool {
	t.Helper()
	sp, err := postfix.Open(postfix.Config{QueueDirectory: dir, HashQueueNames: []string{"deferred", "defer"}, HashQueueDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}
