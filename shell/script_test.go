package shell_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
)

// TestRunScript runs a script as batch mode does (standard input not a terminal): dot-commands
// work, errors name their line and do not stop the script, .once and .output write files
// byte for byte, .read runs a file.
func TestRunScript(t *testing.T) {
	dir := testSpool(t)
	tmp := t.TempDir()
	inc := filepath.Join(tmp, "inc.sql")
	if err := os.WriteFile(inc, []byte("SELECT 'from inc' AS included;\nSELECT broken FROM;\n.mode csv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	once, all := filepath.Join(tmp, "once.txt"), filepath.Join(tmp, "all.csv")
	script := strings.Join([]string{
		".headers on",
		"SELECT 1 AS a;",
		".once " + once,
		".cat -h " + hostileID,
		".once " + once + "2",
		"SELECT subject FROM messages WHERE queue_id = '" + hostileID + "';",
		"SELECT 'back on stdout' AS b;",
		".read " + inc,
		".output " + all,
		"SELECT queue_id, subject FROM messages WHERE queue_id = '" + hostileID + "';",
		".output",
		".read " + filepath.Join(tmp, "missing.sql"),
		"SELECT 'end' AS e",
	}, "\n")
	var out bytes.Buffer
	s := openSession(t, dir, &out)
	s.Opt = output.Options{Format: output.CSV, Headers: true}
	err := s.RunScript(context.Background(), strings.NewReader(script))
	if !errors.Is(err, shell.ErrFailed) {
		t.Errorf("RunScript = %v, want ErrFailed", err)
	}
	golden.Check(t, "batch", bytes.ReplaceAll(out.Bytes(), []byte(tmp), []byte("$TMP")))
	for _, f := range []struct{ path, want string }{
		{once, "Subject: \x1b]0;pwned\x07\x1b[2J\u202egnp.exe 件名\n"},
		{once + "2", "subject\n\x1b]0;pwned\x07\x1b[2J\u202egnp.exe 件名\n"},
		{all, "queue_id,subject\n" + hostileID + ",\x1b]0;pwned\x07\x1b[2J\u202egnp.exe 件名\n"},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil || !strings.HasPrefix(string(b), f.want) {
			t.Errorf("%s = %q, %v; want it to start with %q", f.path, b, err, f.want)
		}
		if st, err := os.Stat(f.path); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f.path, st.Mode().Perm())
		}
	}
}

func TestRunScriptBailAndQuit(t *testing.T) {
	tests := []struct {
		script, want string
		err          error
	}{
		{".bail on\nSELECT nope;\nSELECT 'not reached';\n", "", shell.ErrFailed},
		{"SELECT 'before' AS x;\n.quit\nSELECT 'not reached';\n", "x\nbefore\n", nil},
		{"SELECT nope;\n.exit\n", "", shell.ErrFailed},
	}
	for _, tt := range tests {
		var out, errs bytes.Buffer
		s := openSession(t, testSpool(t), &out)
		s.Err = &errs
		s.Opt = output.Options{Format: output.CSV, Headers: true}
		err := s.RunScript(context.Background(), strings.NewReader(tt.script))
		if !errors.Is(err, tt.err) || out.String() != tt.want {
			t.Errorf("script %q: %v, %q; want %v, %q (stderr %q)", tt.script, err, out.String(), tt.err, tt.want, errs.String())
		}
	}
}

// TestTimer checks .timer's line, which goes to the screen even while results go to a file.
func TestTimer(t *testing.T) {
	var out bytes.Buffer
	s := openSession(t, testSpool(t), &out)
	s.Opt = output.Options{Format: output.CSV}
	file := filepath.Join(t.TempDir(), "r.csv")
	script := ".timer on\nSELECT 1;\n.once " + file + "\nSELECT 2;\n.timer off\nSELECT 3;\n"
	if err := s.RunScript(context.Background(), strings.NewReader(script)); err != nil {
		t.Fatal(err)
	}
	got := regexpRunTime.ReplaceAllString(out.String(), "Run Time: real R user U sys S")
	want := "1\nRun Time: real R user U sys S\nRun Time: real R user U sys S\n3\n"
	if got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(file); string(b) != "2\n" {
		t.Errorf("file %q, want the result only", b)
	}
}

var regexpRunTime = regexp.MustCompile(`Run Time: real [0-9.]+ user [0-9.]+ sys [0-9.]+`)
