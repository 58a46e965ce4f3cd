package shell

import "strings"

// hasWhere reports whether the DELETE or UPDATE in stmt has a WHERE clause of its own: one
// at the top level after the DELETE/UPDATE keyword, not inside a subquery or a WITH clause.
// mqsql refuses a write without one unless --force, the SQL form of postsuper's rule that
// "ALL" must be typed in capitals.
func hasWhere(stmt string) bool {
	seenVerb := false
	depth := 0
	for _, tok := range sqlWords(stmt) {
		switch tok {
		case "(":
			depth++
		case ")":
			depth--
		default:
			if depth != 0 {
				continue
			}
			if tok == "DELETE" || tok == "UPDATE" {
				seenVerb = true
			} else if tok == "WHERE" && seenVerb {
				return true
			}
		}
	}
	return false
}

// sqlWords splits SQL into upper-cased words and parentheses, dropping strings, quoted
// identifiers and comments, which may contain anything.
func sqlWords(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := byte(c)
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(s[i+1:], end)
			if j < 0 {
				return out
			}
			i += j + 1
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return out
			}
			i += j
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 3
		case c == '(' || c == ')':
			out = append(out, string(c))
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, strings.ToUpper(s[i:j]))
			i = j - 1
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
