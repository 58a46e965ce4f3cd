package shell

import (
	"slices"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/write"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// FuzzSplitter checks that statement splitting does not depend on how input arrives: fed
// whole or line by line (as the REPL and batch mode feed it), the same statements come out,
// write.HasWhere never panics, no statement handed on splits again, and SQLite agrees on where
// each statement ends (see agreesWithSQLite).
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2;", "SELECT ';' AS x;", "SELECT 1 -- ; comment\n;", "/* ; */ SELECT 1;",
		"DELETE FROM messages WHERE sender = 'a;b';", `SELECT "a;b", [c;d], ` + "`e;f`;", "SELECT 'it''s';",
	} {
		f.Add(s)
	}
	tls := libc.NewTLS()
	defer tls.Close()
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
			agreesWithSQLite(t, tls, text, s)
		}
	})
}

// agreesWithSQLite checks one statement the splitter handed on against SQLite's own
// sqlite3_complete: no semicolon inside it ends a statement, and a semicolon on a new line
// after it does, unless it ends inside a string, quoted name or comment the input left open.
// Input with a NUL byte (the guard refuses it) or a trigger (whose end SQLite finds by
// grammar; the guard refuses CREATE TRIGGER) is not compared.
func agreesWithSQLite(t *testing.T, tls *libc.TLS, input, stmt string) {
	if strings.IndexByte(input, 0) >= 0 || strings.Contains(strings.ToLower(input), "trigger") {
		return
	}
	for i := 0; i < len(stmt); i++ {
		if stmt[i] == ';' && sqliteComplete(t, tls, stmt[:i+1]) {
			t.Fatalf("SQLite ends a statement at byte %d of %q, which the splitter handed on whole", i, stmt)
		}
	}
	var sp Splitter
	sp.Feed(stmt)
	if sp.Empty() || sp.inQuote() || sp.hasTail && sp.tail.Open {
		return // the input ended inside a string, name or comment
	}
	if !sqliteComplete(t, tls, stmt+"\n;") {
		t.Fatalf("SQLite does not end %q at a following semicolon", stmt)
	}
}

func sqliteComplete(t *testing.T, tls *libc.TLS, text string) bool {
	p, err := libc.CString(text)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, p)
	return sqlite3.Xsqlite3_complete(tls, p) == 1
}
