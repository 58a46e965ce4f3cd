package shell

import "strings"

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

// lexSQL splits text into tokens, skipping white space and comments. open is the quote
// character of a string or quoted identifier left open at the end, 0 when none, and openAt is
// where it starts in text.
func lexSQL(text string) (toks []token, open byte, openAt int) {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				return toks, 0, 0
			}
			i += end + 1
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return toks, 0, 0
			}
			i += end + 4
		case c == '\'' || c == '"' || c == '`' || c == '[':
			closing := c
			if c == '[' {
				closing = ']'
			}
			j := i + 1
			var b strings.Builder
			for ; j < len(text); j++ {
				if text[j] == closing {
					if closing != ']' && j+1 < len(text) && text[j+1] == closing {
						b.WriteByte(closing)
						j++
						continue
					}
					break
				}
				b.WriteByte(text[j])
			}
			if j >= len(text) {
				return toks, c, i
			}
			kind := wordToken
			if c == '\'' {
				kind = stringToken
			}
			toks = append(toks, token{kind: kind, text: b.String(), up: strings.ToUpper(b.String())})
			i = j + 1
		case isIdentByte(c):
			j := i
			for j < len(text) && isIdentByte(text[j]) {
				j++
			}
			w := text[i:j]
			toks = append(toks, token{kind: wordToken, text: w, up: strings.ToUpper(w)})
			i = j
		default:
			toks = append(toks, token{kind: punctToken, text: text[i : i+1], up: text[i : i+1]})
			i++
		}
	}
	return toks, 0, 0
}

// isIdentByte reports whether c can be part of an unquoted SQL word (bytes of UTF-8 letters
// included, as SQLite allows them).
func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
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
