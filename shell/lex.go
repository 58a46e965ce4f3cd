package shell

import (
	"strings"

	"github.com/mqsql/mqsql/index"
)

// token is one lexical token of SQL, as much as completion needs: words (keywords and
// identifiers, upper-cased in up), quoted strings and single punctuation characters.
type token struct {
	kind tokenKind
	text string // as written; for quoted identifiers, without the quotes
	up   string // text upper-cased, for comparing with keywords
}

type tokenKind int

const (
	wordToken tokenKind = iota
	stringToken
	punctToken
)

// lexSQL splits text into tokens for completion, skipping white space and comments: the
// tokens of index.Tokens, the lexer every part of mqsql shares. open is the quote character of
// a string or quoted identifier left open at the end, 0 when none, and openAt is where it
// starts in text.
func lexSQL(text string) (toks []token, open byte, openAt int) {
	for _, t := range index.Tokens(text) {
		switch t.Kind {
		case index.TokenSpace, index.TokenComment:
			continue
		case index.TokenString, index.TokenQuoted:
			if t.Open {
				return toks, text[t.Start], t.Start
			}
		}
		kind := punctToken
		switch t.Kind {
		case index.TokenString:
			kind = stringToken
		case index.TokenWord, index.TokenQuoted:
			kind = wordToken
		}
		v := t.Value(text)
		toks = append(toks, token{kind: kind, text: v, up: strings.ToUpper(v)})
	}
	return toks, 0, 0
}

// sqlKeywords are the SQL words completion offers: SQLite's keywords that queries on the
// queue use, not the whole grammar.
var sqlKeywords = []string{
	"ABORT", "ALL", "ALTER", "ANALYZE", "AND", "AS", "ASC", "ATTACH", "BEGIN", "BETWEEN", "BY",
	"CASE", "CAST", "COLLATE", "COMMIT", "CREATE", "CROSS", "CURRENT_DATE", "CURRENT_TIME",
	"CURRENT_TIMESTAMP", "DEFAULT", "DELETE", "DESC", "DISTINCT", "DROP", "ELSE", "END",
	"ESCAPE", "EXCEPT", "EXISTS", "EXPLAIN", "FALSE", "FILTER", "FROM", "FULL", "GLOB", "GROUP",
	"HAVING", "IN", "INDEX", "INNER", "INSERT", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN",
	"LEFT", "LIKE", "LIMIT", "MATCH", "NATURAL", "NOCASE", "NOT", "NOTNULL", "NULL", "NULLS",
	"OFFSET", "ON", "OR", "ORDER", "OUTER", "OVER", "PARTITION", "PLAN", "PRAGMA", "QUERY",
	"RECURSIVE", "REGEXP", "RIGHT", "ROLLBACK", "SELECT", "SET", "TABLE", "TEMP", "THEN",
	"TRUE", "UNION", "UPDATE", "USING", "VALUES", "VIEW", "WHEN", "WHERE", "WINDOW", "WITH",
}

// isKeyword reports whether an upper-cased word is one of sqlKeywords.
func isKeyword(up string) bool {
	for _, k := range sqlKeywords {
		if k == up {
			return true
		}
	}
	return false
}
