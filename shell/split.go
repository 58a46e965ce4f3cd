package shell

import (
	"strings"

	"github.com/mqsql/mqsql/index"
)

// Splitter collects input into complete SQL statements. A statement ends at a semicolon that
// is outside quotes, identifiers and comments, so "a;b" in a string never splits it. Feeding
// it line by line lets the REPL know when to show the continuation prompt. Tokens are SQLite's
// as index.NextToken draws them, the same lexer the guard uses to refuse a second statement,
// so the statements handed on are the statements SQLite will see.
type Splitter struct {
	// buf is the statement being collected, from just after the last semicolon.
	buf string
	// scanned is where in buf the next token starts; the tokens before it are complete.
	scanned int
	// hasSQL is true once buf[:scanned] has something besides space and comments.
	hasSQL bool
	// tail is the token at the end of buf that more input may still extend (an open string,
	// quoted name or comment, or a '-' or '/' that may start one); hasTail says there is one.
	tail    index.Token
	hasTail bool
	// fedAt is where the text given to the last Feed starts in buf (negative once a
	// semicolon in it cut buf).
	fedAt int
}

// Feed adds text and returns the statements it completes, each without its final semicolon
// and trimmed of surrounding white space; empty statements are dropped.
func (s *Splitter) Feed(text string) []string {
	var out []string
	s.fedAt = len(s.buf)
	s.buf += text
	s.hasTail = false
	i := s.scanned
	for i < len(s.buf) {
		t := index.NextToken(s.buf, i)
		if t.End == len(s.buf) && extendable(s.buf, t) {
			s.tail, s.hasTail = t, true
			break
		}
		switch {
		case t.Kind == index.TokenPunct && s.buf[t.Start] == ';':
			if s.hasSQL {
				out = append(out, strings.TrimSpace(s.buf[:t.Start]))
			}
			s.buf, s.fedAt, s.hasSQL = s.buf[t.End:], s.fedAt-t.End, false
			i = 0
			continue
		case t.Kind != index.TokenSpace && t.Kind != index.TokenComment:
			s.hasSQL = true
		}
		i = t.End
	}
	s.scanned = i
	return out
}

// extendable reports whether more input could change token t, which ends sql: a string, name
// or block comment still open, a line comment waiting for its newline, or a '-' or '/' that
// the next byte may turn into a comment.
func extendable(sql string, t index.Token) bool {
	switch t.Kind {
	case index.TokenComment:
		return t.Open || sql[t.Start] == '-'
	case index.TokenString, index.TokenQuoted:
		return t.Open
	case index.TokenPunct:
		return sql[t.Start] == '-' || sql[t.Start] == '/'
	}
	return false
}

// statementStarted reports whether the unfinished statement has SQL in it, its open tail
// included.
func (s *Splitter) statementStarted() bool {
	return s.hasSQL || s.hasTail && s.tail.Kind != index.TokenComment
}

// Pending returns the unfinished statement, or "" when the input since the last semicolon
// holds only white space and comments. At the end of input it is the last statement, which
// needs no semicolon.
func (s *Splitter) Pending() string {
	if !s.statementStarted() {
		return ""
	}
	return strings.TrimSpace(s.buf)
}

// Empty reports whether no statement has been started, so the REPL shows its main prompt.
func (s *Splitter) Empty() bool {
	return !s.statementStarted() && !(s.hasTail && s.tail.Kind == index.TokenComment)
}

// Reset drops an unfinished statement (Ctrl-C at the prompt).
func (s *Splitter) Reset() {
	*s = Splitter{}
}

// inQuote reports whether the input ends inside a string or quoted name.
func (s *Splitter) inQuote() bool {
	return s.hasTail && s.tail.Open && (s.tail.Kind == index.TokenString || s.tail.Kind == index.TokenQuoted)
}

// lineComment returns where, in the text given to the last Feed, a -- comment starts that the
// input ends in; ok is false when it ends in none.
func (s *Splitter) lineComment() (at int, ok bool) {
	if !s.hasTail || s.tail.Kind != index.TokenComment || s.buf[s.tail.Start] != '-' || s.tail.Start < s.fedAt {
		return 0, false
	}
	return s.tail.Start - s.fedAt, true
}
