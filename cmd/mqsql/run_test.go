package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/internal/testspool"
)

// The queries the README shows, run on the sample spool.
const (
	listQuery   = "SELECT queue, queue_id, size, sender, recipient_count, subject FROM messages WHERE queue != 'corrupt' ORDER BY queue, queue_id"
	senderQuery = "SELECT sender, count(*) AS messages FROM messages WHERE queue != 'corrupt' GROUP BY sender ORDER BY 2 DESC, 1"
)

func TestRun(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		golden string // compare stdout with testdata/<golden>.golden
		stdout string // else: stdout must contain this
		stderr string // stderr must contain this
	}{
		{name: "list csv", args: []string{listQuery}, golden: "list-csv"},
		{name: "senders json", args: []string{"--format", "json", senderQuery}, golden: "senders-json"},
		{name: "recipients jsonl", args: []string{"--format", "jsonl", "SELECT * FROM recipients WHERE queue_id = '4jc7PP1W6fzdXSJ' ORDER BY address"}, golden: "recipients-jsonl"},
		{name: "sasl", args: []string{"--format", "csv", "SELECT sasl_username, count(*) FROM messages WHERE sasl_username IS NOT NULL GROUP BY 1"}, stdout: "hijacked@mqsql.test,1"},
		{name: "regexp and domain", args: []string{"SELECT count(*) FROM recipients WHERE address REGEXP '^r[23]@' AND domain(address) = 'remote.test'"}, stdout: "\n2\n"},
		{name: "several statements", args: []string{"SELECT 1 AS a; SELECT 2 AS b"}, stdout: "a\n1\nb\n2\n"},
		{name: "stdin batch goes on after an error", stdin: "SELECT 1 AS a;\nSELECT nope FROM nowhere;\nSELECT 3 AS c;\n", code: 1, stdout: "a\n1\nc\n3\n", stderr: "near line 2: SQL logic error: no such table: nowhere"},
		{name: "bail stops", args: []string{"--bail"}, stdin: "SELECT nope FROM nowhere;\nSELECT 3 AS c;\n", code: 1, stderr: "no such table"},
		{name: "sql error", args: []string{"SELECT * FROM nosuch"}, code: 1, stderr: "no such table: nosuch"},
		{name: "unknown column hint", args: []string{"SELECT sendr FROM messages"}, code: 1, stderr: "no such column: sendr (1) (did you mean sender?)"},
		{name: "two arguments", args: []string{"SELECT", "1"}, code: 2, stderr: "quote the statement"},
		{name: "flags after the SQL", args: []string{senderQuery, "--format", "json"}, golden: "senders-json"},
		{name: "flags on both sides", args: []string{"--format", "csv", "SELECT 1 AS a", "--header=false"}, stdout: "1\n"},
		{name: "-- ends the flags", args: []string{"--format", "csv", "--", "-- a comment\nSELECT 2 AS b"}, stdout: "b\n2\n"},
		{name: "-- then a flag is SQL", args: []string{"--", "SELECT 1", "--format"}, code: 2, stderr: "got 2 (\"SELECT 1\" \"--format\")"},
		{name: "MAILER-DAEMON hint", args: []string{"SELECT queue_id FROM messages WHERE sender = 'mailer-daemon'"}, stderr: "the null sender (bounces, shown as MAILER-DAEMON) is stored as '': use sender = ''"},
		{name: "MAILER-DAEMON hint on a write", args: []string{"--dry-run", "DELETE FROM messages WHERE sender = 'MAILER-DAEMON'"}, stdout: "No messages match", stderr: "use sender = ''"},
		{name: "version flag", args: []string{"--version"}, stdout: "mqsql "},
		{name: "unknown format", args: []string{"--format", "xml", "SELECT 1"}, code: 2, stderr: "unknown format"},
		{name: "unknown flag", args: []string{"--nope"}, code: 2, stderr: "flag provided but not defined"},
		{name: "help", args: []string{"--help"}, code: 0, stderr: "Usage: mqsql"},
		{name: "missing spool", args: []string{"--spool", "/nonexistent/spool", "SELECT 1"}, code: 2, stderr: "mqsql: --spool /nonexistent/spool: no such directory\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !strings.HasPrefix(tt.name, "missing spool") {
				args = append([]string{"--spool", dir}, args...)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.stderr)
			}
			if tt.golden != "" {
				golden.Check(t, tt.golden, stdout.Bytes())
			} else if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.stdout)
			}
		})
	}
}

// TestWarmStart checks that a --db index gives the same answers on its second start and picks
// up a deleted file.
func TestWarmStart(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	db := filepath.Join(t.TempDir(), "idx.db")
	query := func() string {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"--spool", dir, "--db", db, listQuery}, nil, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		return out.String()
	}
	first := query()
	if second := query(); second != first {
		t.Errorf("second start differs:\n%s\nfirst:\n%s", second, first)
	}
	if err := os.Remove(filepath.Join(dir, "hold", "4jc86b0jCBz5bb9")); err != nil {
		t.Fatal(err)
	}
	if third := query(); strings.Contains(third, "4jc86b0jCBz5bb9") || strings.Count(third, "\n") != strings.Count(first, "\n")-1 {
		t.Errorf("after removing a file the index still shows it:\n%s", third)
	}
	st, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("index file mode %o, want 0600", st.Mode().Perm())
	}
}

// TestCommandsTakeFlagsAnywhere gives mqsql restore and mqsql version their flags after their
// arguments: restore lists a base named before --spool; version prints the version and
// commit.
func TestCommandsTakeFlagsAnywhere(t *testing.T) {
	dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"restore", backup, "--spool", dir, "--backup", backup}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "is a backup base") {
		t.Errorf("restore BASE --spool DIR: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"version"}, nil, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "mqsql ") || !strings.Contains(out.String(), "(commit ") {
		t.Errorf("version: exit %d %q", code, out.String())
	}
}
