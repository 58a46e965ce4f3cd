package index

import "strings"

// TokenKind is what one lexical token of SQLite's SQL is. Only the distinctions that decide
// where a statement ends, where a WHERE stands and what completion may offer are made: a
// semicolon, a parenthesis or a keyword inside a string, a quoted name or a comment is not one.
type TokenKind int

// The token kinds, as SQLite's tokenizer (tokenize.c) draws their bounds.
const (
	// TokenSpace is white space: space, tab, newline, form feed, return (not vertical tab,
	// which SQLite's tokenizer rejects as an illegal token).
	TokenSpace TokenKind = iota
	// TokenComment is a -- comment up to its newline or a /* */ comment.
	TokenComment
	// TokenWord is a keyword, a bare identifier, a number or a parameter name.
	TokenWord
	// TokenString is a '...' literal.
	TokenString
	// TokenQuoted is a quoted identifier: "...", `...` or [...].
	TokenQuoted
	// TokenPunct is any other single byte: operators, parentheses, commas, semicolons.
	TokenPunct
)

// Token is one token of a text, by its byte offsets, so that callers can cut the text exactly
// where SQLite would.
type Token struct {
	Kind       TokenKind
	Start, End int
	// Open is true for a string, quoted identifier or block comment that the text ends inside.
	Open bool
}

// Text is the token as written.
func (t Token) Text(sql string) string { return sql[t.Start:t.End] }

// Value is a string's or quoted identifier's content with its quotes removed and doubled
// quotes made single; for other tokens it is the text.
func (t Token) Value(sql string) string {
	if t.Kind != TokenString && t.Kind != TokenQuoted {
		return t.Text(sql)
	}
	q := sql[t.Start]
	closing := q
	if q == '[' {
		closing = ']'
	}
	end := t.End
	if !t.Open {
		end--
	}
	body := sql[t.Start+1 : end]
	if closing == ']' {
		return body
	}
	return strings.ReplaceAll(body, string([]byte{closing, closing}), string(closing))
}

// NextToken returns the token that starts at sql[i]; i must be below len(sql).
func NextToken(sql string, i int) Token {
	c := sql[i]
	switch {
	case isSpaceByte(c):
		j := i + 1
		for j < len(sql) && isSpaceByte(sql[j]) {
			j++
		}
		return Token{Kind: TokenSpace, Start: i, End: j}
	case c == '-' && strings.HasPrefix(sql[i:], "--"):
		j := strings.IndexByte(sql[i:], '\n')
		if j < 0 {
			return Token{Kind: TokenComment, Start: i, End: len(sql)}
		}
		return Token{Kind: TokenComment, Start: i, End: i + j} // the newline is white space
	case c == '/' && strings.HasPrefix(sql[i:], "/*"):
		j := strings.Index(sql[i+2:], "*/")
		if j < 0 {
			return Token{Kind: TokenComment, Start: i, End: len(sql), Open: true}
		}
		return Token{Kind: TokenComment, Start: i, End: i + 2 + j + 2}
	case c == '\'' || c == '"' || c == '`' || c == '[':
		return quotedToken(sql, i)
	case IsWordByte(c):
		j := i + 1
		for j < len(sql) && IsWordByte(sql[j]) {
			j++
		}
		return Token{Kind: TokenWord, Start: i, End: j}
	}
	return Token{Kind: TokenPunct, Start: i, End: i + 1}
}

// quotedToken scans a string or quoted identifier; a doubled closing quote is part of it,
// except in [...], which SQLite ends at the first ].
func quotedToken(sql string, i int) Token {
	kind, closing := TokenQuoted, sql[i]
	switch closing {
	case '\'':
		kind = TokenString
	case '[':
		closing = ']'
	}
	for j := i + 1; j < len(sql); j++ {
		if sql[j] != closing {
			continue
		}
		if closing != ']' && j+1 < len(sql) && sql[j+1] == closing {
			j++
			continue
		}
		return Token{Kind: kind, Start: i, End: j + 1}
	}
	return Token{Kind: kind, Start: i, End: len(sql), Open: true}
}

// Tokens splits sql into tokens, white space and comments included, so that the tokens cover
// the text exactly.
func Tokens(sql string) []Token {
	var toks []Token
	for i := 0; i < len(sql); {
		t := NextToken(sql, i)
		toks = append(toks, t)
		i = t.End
	}
	return toks
}

// IsWordByte reports whether c can be part of a bare SQL word: SQLite's identifier bytes
// (letters, digits, '_', '$' and every byte of a UTF-8 sequence).
func IsWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// isSpaceByte is white space to SQLite's tokenizer.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// statementEnd returns the offset just past the first statement of sql: past its top-level
// semicolon, or len(sql) when it has none.
func statementEnd(sql string) int {
	for i := 0; i < len(sql); {
		t := NextToken(sql, i)
		if t.Kind == TokenPunct && sql[t.Start] == ';' {
			return t.End
		}
		i = t.End
	}
	return len(sql)
}

// onlySpace reports whether sql holds nothing but white space, comments and semicolons: no
// statement for SQLite to run.
func onlySpace(sql string) bool {
	for i := 0; i < len(sql); {
		t := NextToken(sql, i)
		if t.Kind != TokenSpace && t.Kind != TokenComment && !(t.Kind == TokenPunct && sql[t.Start] == ';') {
			return false
		}
		i = t.End
	}
	return true
}
