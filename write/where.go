package write

import (
	"strings"

	"github.com/mqsql/mqsql/index"
)

// words returns the tokens of stmt that SQLite acts on, without white space and comments.
func words(stmt string) []index.Token {
	var out []index.Token
	for _, t := range index.Tokens(stmt) {
		if t.Kind != index.TokenSpace && t.Kind != index.TokenComment {
			out = append(out, t)
		}
	}
	return out
}

// isWord reports whether t is the bare word w, in any case.
func isWord(stmt string, t index.Token, w string) bool {
	return t.Kind == index.TokenWord && strings.EqualFold(t.Text(stmt), w)
}

// isPunct reports whether t is the punctuation byte c.
func isPunct(stmt string, t index.Token, c byte) bool {
	return t.Kind == index.TokenPunct && stmt[t.Start] == c
}

// HasWhere reports whether the DELETE or UPDATE in stmt has a WHERE clause of its own: one
// at the top level after the DELETE/UPDATE keyword, not inside a subquery or a WITH clause.
// mqsql refuses a write without one unless --force, the SQL form of postsuper's rule that
// "ALL" must be typed in capitals.
func HasWhere(stmt string) bool {
	return whereStart(stmt, words(stmt)) >= 0
}

// whereStart returns the index in toks of the statement's own WHERE keyword, or -1.
func whereStart(stmt string, toks []index.Token) int {
	seenVerb := false
	depth := 0
	for i, t := range toks {
		switch {
		case isPunct(stmt, t, '('):
			depth++
		case isPunct(stmt, t, ')'):
			depth--
		case depth != 0:
		case isWord(stmt, t, "DELETE") || isWord(stmt, t, "UPDATE"):
			seenVerb = true
		case seenVerb && isWord(stmt, t, "WHERE"):
			return i
		}
	}
	return -1
}
