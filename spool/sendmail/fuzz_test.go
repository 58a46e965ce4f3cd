package sendmail

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql"
)

// FuzzParseQF feeds the parser damaged control files: it must never panic, and every
// recipient it returns comes from an R line.
func FuzzParseQF(f *testing.F) {
	names, _ := filepath.Glob("../../testdata/sendmail/mqueue/[qhQ]f*")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var q qfile
		var m mqsql.Message
		if _, err := parseQF(data, &q, &m, nil); err != nil {
			t.Fatalf("canceled without a budget: %v", err)
		}
		if rs := bytes.Count(data, []byte("\nR")) + 1; len(m.Recipients) > rs {
			t.Fatalf("%d recipients from at most %d R lines", len(m.Recipients), rs)
		}
		for _, h := range q.headers {
			_ = headerValue(h.value)
		}
	})
}
