package shell_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
)

// TestHistoryNotThroughLinks makes the history file (MQSQL_HISTORY) a link to another file:
// mqsql refuses it, and the file it points at keeps its bytes and mode. A link to /dev/null
// still means "keep no history", quietly.
func TestHistoryNotThroughLinks(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "victim"), filepath.Join(dir, "history")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	h, _, err := shell.OpenHistory(link)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("OpenHistory(link) = %v, want a refusal naming the link", err)
	}
	h.Add("SELECT 1;")
	h.Save()
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep me\n" {
		t.Errorf("link target now %q, %v", b, err)
	}
	if st, err := os.Stat(target); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("link target mode %v, %v; want 0644 unchanged", st.Mode().Perm(), err)
	}

	null := filepath.Join(dir, "null-history")
	if err := os.Symlink(os.DevNull, null); err != nil {
		t.Fatal(err)
	}
	h, _, err = shell.OpenHistory(null)
	h.Add("SELECT 1;")
	if err != nil || h.Save() != nil {
		t.Errorf("history linked to %s: %v", os.DevNull, err)
	}
}

// TestOutputNotThroughDanglingLinks points .output and .once at a link to a file that does
// not exist: sqlite3 would create the link's target; mqsql refuses and creates nothing. An
// existing file named through a link is written where the user said, as sqlite3 does, and
// keeps its mode.
func TestOutputNotThroughDanglingLinks(t *testing.T) {
	tmp := t.TempDir()
	for _, cmd := range []string{".output", ".once"} {
		target, link := filepath.Join(tmp, cmd[1:]+"-target"), filepath.Join(tmp, cmd[1:]+"-link")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		var out, errs bytes.Buffer
		s := openSession(t, testSpool(t), &out)
		s.Err = &errs
		s.Opt = output.Options{Format: output.CSV}
		s.RunScript(context.Background(), strings.NewReader(cmd+" "+link+"\nSELECT 1;\n"))
		if _, err := os.Lstat(target); err == nil {
			t.Errorf("%s created the target of a dangling link", cmd)
		}
		if !strings.Contains(errs.String(), "symbolic link") {
			t.Errorf("%s: stderr %q does not say why", cmd, errs.String())
		}
	}

	existing, link := filepath.Join(tmp, "existing"), filepath.Join(tmp, "to-existing")
	if err := os.WriteFile(existing, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(existing, link); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := openSession(t, testSpool(t), &out)
	s.Opt = output.Options{Format: output.CSV}
	if err := s.RunScript(context.Background(), strings.NewReader(".once "+link+"\nSELECT 2;\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "2\n" {
		t.Errorf("existing file holds %q, want the result", b)
	}
	if st, err := os.Stat(existing); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("existing file mode %v, %v; want 0644 kept", st.Mode().Perm(), err)
	}
}
