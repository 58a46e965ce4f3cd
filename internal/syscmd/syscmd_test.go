package syscmd_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql/internal/syscmd"
)

// TestFind checks the order: a system directory before PATH, PATH as the fallback (made
// absolute), and a clear error when neither has the command.
func TestFind(t *testing.T) {
	planted := t.TempDir()
	for _, name := range []string{"sh", "mqsql-syscmd-test"} {
		if err := os.WriteFile(filepath.Join(planted, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", planted)
	if p, err := syscmd.Find("sh"); err != nil || filepath.Dir(p) == planted {
		t.Errorf("sh: %q, %v; want the system's, not PATH's", p, err)
	}
	if p, err := syscmd.Find("mqsql-syscmd-test"); err != nil || p != filepath.Join(planted, "mqsql-syscmd-test") {
		t.Errorf("PATH fallback: %q, %v", p, err)
	}
	if _, err := syscmd.Find("mqsql-no-such-command"); !errors.Is(err, syscmd.ErrNotFound) {
		t.Errorf("missing command: %v", err)
	}
	if p, err := syscmd.FindFirst("mqsql-no-such-command", "sh"); err != nil || filepath.Dir(p) == planted {
		t.Errorf("FindFirst: %q, %v", p, err)
	}
}
