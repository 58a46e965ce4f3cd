package shell

import "strings"

// Splitter collects input into complete SQL statements. A statement ends at a semicolon that
// is outside quotes, identifiers and comments, so "a;b" in a string never splits it. Feeding
// it line by line lets the REPL know when to show the continuation prompt.
type Splitter struct {
	buf   strings.Builder
	state splitState
	// closing is the byte that ends the current quoted token ('\'', '"', '`' or ']').
	closing byte
	// hasSQL is true once the current statement has something besides space and comments.
	hasSQL bool
	// commentAt is where, in the text given to the last Feed, the last -- comment started.
	commentAt int
}

type splitState int

const (
	plain splitState = iota
	quoted
	lineComment
	blockComment
)

// Feed adds text and returns the statements it completes, each without its final semicolon
// and trimmed of surrounding white space; empty statements are dropped.
func (s *Splitter) Feed(text string) []string {
	var out []string
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch s.state {
		case plain:
			switch {
			case c == ';':
				if s.hasSQL {
					out = append(out, strings.TrimSpace(s.buf.String()))
				}
				s.buf.Reset()
				s.hasSQL = false
				continue
			case c == '-' && i+1 < len(text) && text[i+1] == '-':
				s.state, s.commentAt = lineComment, i
			case c == '/' && i+1 < len(text) && text[i+1] == '*':
				s.state = blockComment
				s.buf.WriteString("/*")
				i++
				continue
			case c == '\'' || c == '"' || c == '`':
				s.state, s.closing, s.hasSQL = quoted, c, true
			case c == '[':
				s.state, s.closing, s.hasSQL = quoted, ']', true
			case c != ' ' && c != '\t' && c != '\n' && c != '\r':
				s.hasSQL = true
			}
		case quoted:
			if c == s.closing {
				s.state = plain // a doubled quote simply re-enters the quoted state
			}
		case lineComment:
			if c == '\n' {
				s.state = plain
			}
		case blockComment:
			if c == '*' && i+1 < len(text) && text[i+1] == '/' {
				s.state = plain
				s.buf.WriteString("*/")
				i++
				continue
			}
		}
		s.buf.WriteByte(c)
	}
	return out
}

// Pending returns the unfinished statement, or "" when the input since the last semicolon
// holds only white space and comments. At the end of input it is the last statement, which
// needs no semicolon.
func (s *Splitter) Pending() string {
	if !s.hasSQL {
		return ""
	}
	return strings.TrimSpace(s.buf.String())
}

// Empty reports whether no statement has been started, so the REPL shows its main prompt.
func (s *Splitter) Empty() bool {
	return s.state == plain && !s.hasSQL
}

// Reset drops an unfinished statement (Ctrl-C at the prompt).
func (s *Splitter) Reset() {
	s.buf.Reset()
	s.state = plain
	s.hasSQL = false
}
