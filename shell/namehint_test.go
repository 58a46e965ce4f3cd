package shell_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestUnknownNameHint checks that an unknown column or table gets a hint naming the closest
// names the index has, in scripts and one-shot runs (RunScript) as in the REPL, on each MTA.
func TestUnknownNameHint(t *testing.T) {
	tests := []struct{ stmt, want, notWant string }{
		{"SELECT sendr FROM messages;", "did you mean sender?", ""},
		{"SELECT m.queu_id FROM messages m;", "did you mean queue_id?", ""},
		{"SELECT * FROM mesages;", "did you mean messages?", ""},
		{"SELECT * FROM recipents;", "did you mean recipients?", ""},
		{"SELECT xyzzyplugh FROM messages;", "no such column: xyzzyplugh", "did you mean"},
	}
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			for _, tt := range tests {
				var out bytes.Buffer
				sess := dryRunSession(t, s.OpenCopy(t), &out)
				sess.RunScript(context.Background(), strings.NewReader(tt.stmt+"\n"))
				got := out.String()
				if !strings.Contains(got, tt.want) || (tt.notWant != "" && strings.Contains(got, tt.notWant)) {
					t.Errorf("%s:\n%s", tt.stmt, got)
				}
			}
		})
	}
}
