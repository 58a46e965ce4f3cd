package shell_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/shell"
)

// TestREPLRefusalSaysWhatToDo checks that a write refused for want of --force tells a REPL
// user what works in the REPL (--force is a command-line option, which cannot be given at the
// prompt), while a script still says to add --force. On each MTA's sample spool.
func TestREPLRefusalSaysWhatToDo(t *testing.T) {
	const stmts = "DELETE FROM messages;\nDELETE FROM messages WHERE queue_id = queue_id;\nDELETE FROM messages WHERE queue_id <> '';\n"
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			var term bytes.Buffer
			sess := dryRunSession(t, s.OpenCopy(t), &term)
			sess.Writes.Force = false
			sess.Terminal = true
			in := &shell.Interactive{Session: sess, Editor: &scriptEditor{out: &term, lines: lines(stmts)}}
			in.Run(context.Background())
			got := term.String()
			if n := strings.Count(got, "Error: refused"); n != 3 {
				t.Fatalf("%d refusals, want 3:\n%s", n, got)
			}
			if strings.Contains(got, "add --force") || strings.Contains(got, "or --force") {
				t.Errorf("the REPL is told to add --force, which it cannot take:\n%s", got)
			}
			if n := strings.Count(got, "leave the REPL"); n != 3 {
				t.Errorf("%d refusals say what to do in the REPL, want 3:\n%s", n, got)
			}
			var script bytes.Buffer
			batch := dryRunSession(t, s.OpenCopy(t), &script)
			batch.Writes.Force = false
			batch.RunScript(context.Background(), strings.NewReader("DELETE FROM messages;\n"))
			if !strings.Contains(script.String(), "--force") || strings.Contains(script.String(), "leave the REPL") {
				t.Errorf("a script's refusal:\n%s", script.String())
			}
		})
	}
}
