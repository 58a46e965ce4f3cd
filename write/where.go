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
	return clauseStart(stmt, toks, "WHERE")
}

// clauseStart returns the index in toks of keyword at the top level after the statement's
// DELETE or UPDATE (not in a subquery or a WITH clause), or -1.
func clauseStart(stmt string, toks []index.Token, keyword string) int {
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
		case seenVerb && isWord(stmt, t, keyword):
			return i
		}
	}
	return -1
}

// WhereNamesTarget reports whether the statement's own WHERE clause names a column of the
// rows it acts on: a column of columns (the target's) written bare outside any subquery, or
// one qualified with the target's name or alias anywhere in it. A WHERE that names none
// ("WHERE 1", "FROM messages AS m2 WHERE m2.sender = 'x'") cannot tell one target row from
// another: it matches all of them or none.
func WhereNamesTarget(stmt string, columns []string) bool {
	toks := words(stmt)
	w := whereStart(stmt, toks)
	if w < 0 {
		return false
	}
	targets := targetNames(stmt, toks[:w])
	var subquery []bool // one entry per open parenthesis: does it open a subquery?
	inSubquery := 0
	for i := w + 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case isPunct(stmt, t, '('):
			sub := i+1 < len(toks) && (isWord(stmt, toks[i+1], "SELECT") || isWord(stmt, toks[i+1], "WITH") || isWord(stmt, toks[i+1], "VALUES"))
			subquery = append(subquery, sub)
			if sub {
				inSubquery++
			}
		case isPunct(stmt, t, ')'):
			if n := len(subquery); n > 0 {
				if subquery[n-1] {
					inSubquery--
				}
				subquery = subquery[:n-1]
			}
		case len(subquery) == 0 && (isWord(stmt, t, "RETURNING") || isWord(stmt, t, "ORDER") || isWord(stmt, t, "LIMIT")):
			return false
		case !isName(t) || i > 0 && isPunct(stmt, toks[i-1], '.'):
		case i+2 < len(toks) && isPunct(stmt, toks[i+1], '.'):
			if qualifiesTarget(stmt, toks[i:], targets) {
				return true
			}
		case i+1 < len(toks) && isPunct(stmt, toks[i+1], '('): // a function
		case inSubquery == 0 && containsFold(columns, t.Value(stmt)):
			return true
		}
	}
	return false
}

// qualifiesTarget reports whether toks start with a name of the target followed by a dot:
// "m.sender", "messages.sender" or "main.messages.sender".
func qualifiesTarget(stmt string, toks []index.Token, targets []string) bool {
	first := toks[0].Value(stmt)
	if containsFold(targets, first) {
		return true
	}
	return strings.EqualFold(first, "main") && len(toks) > 3 && isName(toks[2]) &&
		containsFold(targets, toks[2].Value(stmt)) && isPunct(stmt, toks[3], '.')
}

// targetNames returns the name and alias of the table a DELETE or UPDATE acts on, from the
// tokens before its WHERE: "DELETE FROM [main.]messages [AS m]", "UPDATE [OR x] messages [AS m]".
func targetNames(stmt string, toks []index.Token) []string {
	depth, i := 0, 0
	for ; i < len(toks); i++ {
		switch t := toks[i]; {
		case isPunct(stmt, t, '('):
			depth++
		case isPunct(stmt, t, ')'):
			depth--
		case depth == 0 && isWord(stmt, t, "DELETE") && i+1 < len(toks) && isWord(stmt, toks[i+1], "FROM"):
			return tableAndAlias(stmt, toks[i+2:])
		case depth == 0 && isWord(stmt, t, "UPDATE"):
			rest := toks[i+1:]
			if len(rest) > 1 && isWord(stmt, rest[0], "OR") {
				rest = rest[2:]
			}
			return tableAndAlias(stmt, rest)
		}
	}
	return nil
}

func tableAndAlias(stmt string, toks []index.Token) []string {
	if len(toks) > 2 && isPunct(stmt, toks[1], '.') {
		toks = toks[2:]
	}
	if len(toks) == 0 || !isName(toks[0]) {
		return nil
	}
	names := []string{toks[0].Value(stmt)}
	if len(toks) > 2 && isWord(stmt, toks[1], "AS") && isName(toks[2]) {
		names = append(names, toks[2].Value(stmt))
	}
	return names
}

// isName reports whether t can be an identifier: a bare word or a quoted name.
func isName(t index.Token) bool {
	return t.Kind == index.TokenWord || t.Kind == index.TokenQuoted
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// HasReturning reports whether the DELETE or UPDATE in stmt has a RETURNING clause of its
// own, at the top level after its verb.
func HasReturning(stmt string) bool {
	return clauseStart(stmt, words(stmt), "RETURNING") >= 0
}
