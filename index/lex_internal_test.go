package index

import (
	"strings"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteComplete asks SQLite's own sqlite3_complete whether text, which ends in a semicolon,
// is complete: whether that semicolon ends a statement rather than sitting in a string, a
// quoted name or a comment.
func sqliteComplete(t *testing.T, tls *libc.TLS, text string) bool {
	p, err := libc.CString(text)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, p)
	return sqlite3.Xsqlite3_complete(tls, p) == 1
}

// terminates is the same question asked of mqsql's lexer about the last byte of text, a
// semicolon: whether it is a token of its own, outside strings, quoted names and comments.
func terminates(text string) bool {
	toks := Tokens(text)
	last := toks[len(toks)-1]
	return last.Kind == TokenPunct && last.Start == len(text)-1
}

// FuzzStatementEnds checks that mqsql's lexer and SQLite agree on where every statement of a
// text ends: at each semicolon, SQLite says a statement is complete exactly when the lexer
// found a top-level semicolon last. The guard refuses text with more than one statement by
// this lexer's word, so a disagreement would let SQLite run SQL the guard never saw. Text
// with a NUL byte (refused before lexing) or a trigger (SQLite ends a trigger body by grammar,
// not by token; mqsql refuses CREATE TRIGGER) is not compared.
func FuzzStatementEnds(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2;", "SELECT ';' AS x;", "SELECT 1 -- ; comment\n;", "/* ; */ SELECT 1;",
		`SELECT "a;b", [c;d], ` + "`e;f`;", "SELECT 'it''s';", "SELECT [a]]; x", "/*/ ; */;",
		"SELECT 1 /* unterminated ;", "DELETE FROM messages WHERE x = 'a\n;b';", "SELECT x'00';",
	} {
		f.Add(s)
	}
	tls := libc.NewTLS()
	defer tls.Close()
	f.Fuzz(func(t *testing.T, text string) {
		if strings.IndexByte(text, 0) >= 0 || strings.Contains(strings.ToLower(text), "trigger") {
			t.Skip()
		}
		for i := 0; i < len(text); i++ {
			if text[i] != ';' {
				continue
			}
			prefix := text[:i+1]
			if got, want := terminates(prefix), sqliteComplete(t, tls, prefix); got != want {
				t.Fatalf("%q: lexer says its last semicolon ends a statement: %v, SQLite: %v", prefix, got, want)
			}
		}
	})
}

// TestTokensCoverTheText checks the lexer's offsets on the cases the REPL and the guard rely
// on: tokens are contiguous, quoted values lose their quotes, and open quotes are reported.
func TestTokensCoverTheText(t *testing.T) {
	tests := []struct {
		sql   string
		kinds []TokenKind
		value string // Value of the first string or quoted token
		open  bool   // whether the last token is open
	}{
		{"SELECT 'it''s'", []TokenKind{TokenWord, TokenSpace, TokenString}, "it's", false},
		{`"a""b" [x]]`, []TokenKind{TokenQuoted, TokenSpace, TokenQuoted, TokenPunct}, `a"b`, false},
		{"x -- c\n;", []TokenKind{TokenWord, TokenSpace, TokenComment, TokenSpace, TokenPunct}, "", false},
		{"a /* b", []TokenKind{TokenWord, TokenSpace, TokenComment}, "", true},
		{"'open", []TokenKind{TokenString}, "open", true},
	}
	for _, tt := range tests {
		toks := Tokens(tt.sql)
		var kinds []TokenKind
		at, value := 0, ""
		for _, tok := range toks {
			if tok.Start != at {
				t.Errorf("%q: token at %d, want %d", tt.sql, tok.Start, at)
			}
			at = tok.End
			kinds = append(kinds, tok.Kind)
			if value == "" && (tok.Kind == TokenString || tok.Kind == TokenQuoted) {
				value = tok.Value(tt.sql)
			}
		}
		if at != len(tt.sql) || !equalKinds(kinds, tt.kinds) || value != tt.value || toks[len(toks)-1].Open != tt.open {
			t.Errorf("%q: kinds %v value %q open %v, want %v %q %v", tt.sql, kinds, value, toks[len(toks)-1].Open, tt.kinds, tt.value, tt.open)
		}
	}
}

func equalKinds(a, b []TokenKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
