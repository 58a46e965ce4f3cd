package shell

import (
	"slices"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/write"
)

// FuzzSplitter checks that statement splitting does not depend on how input arrives: fed
// whole or line by line (as the REPL and batch mode feed it), the same statements come out,
// write.HasWhere never panics, and no statement handed on splits again.
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2;", "SELECT ';' AS x;", "SELECT 1 -- ; comment\n;", "/* ; */ SELECT 1;",
		"DELETE FROM messages WHERE sender = 'a;b';", `SELECT "a;b", [c;d], ` + "`e;f`;", "SELECT 'it''s';",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var whole Splitter
		want := append(whole.Feed(text), whole.Pending())
		var parts Splitter
		var got []string
		for _, line := range strings.SplitAfter(text, "\n") {
			got = append(got, parts.Feed(line)...)
		}
		got = append(got, parts.Pending())
		if !slices.Equal(got, want) {
			t.Fatalf("line by line: %q, whole: %q", got, want)
		}
		for _, s := range want {
			write.HasWhere(s)
			// A statement handed on holds no statement end of its own: the guard, which
			// lexes with the same rules, would refuse it otherwise.
			var again Splitter
			if inner := again.Feed(s); len(inner) != 0 {
				t.Fatalf("statement %q splits again into %q", s, inner)
			}
		}
	})
}
