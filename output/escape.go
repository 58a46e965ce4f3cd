package output

import (
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character that could control or fool a terminal replaced by
// a visible escape, by the rules in the package documentation. It is exported for the other
// places that show queue data to a person, such as error messages that quote a Subject.
func Escape(s string) string {
	return escape(s, escControls)
}

// policy is the set of rewrites a format applies to a value's text. The formats differ: tsv
// and markdown need structural escapes whatever Options.Escape says, and only the modes
// meant for people trade exactness for readability.
type policy uint8

const (
	// escControls is Options.Escape: controls, invalid UTF-8 and invisible characters.
	escControls policy = 1 << iota
	// escLayout writes newline, carriage return and tab as \n, \r and \t.
	escLayout
	// escBackslash doubles backslashes, so that the format's own escapes stay unambiguous.
	escBackslash
	// escPipe writes | as \|, for markdown cells.
	escPipe
	// escBreak writes a line break (LF, CR LF or CR) as <br>, for markdown cells; escControls
	// and escLayout take precedence.
	escBreak
	// escKeepLines lets newline and tab through as they are, for messages to people (Writer):
	// they lay a message out and cannot change what the terminal shows. Carriage return is
	// still escaped: it would let a message write over the line before it.
	escKeepLines
)

// EscapeMessage returns s escaped as Escape does, except that newlines and tabs stay as
// they are: for text that is laid out in lines, such as an error message quoting mail data.
// Writer applies it to everything written through it.
func EscapeMessage(s string) string {
	return escape(s, escControls|escKeepLines)
}

// escape returns s rewritten by p, or s itself when nothing in it needs a rewrite, which is
// the common case and costs no allocation.
func escape(s string, p policy) string {
	if i := firstRewrite(s, p); i >= 0 {
		return string(appendEscaped(make([]byte, 0, len(s)+16), s, i, p))
	}
	return s
}

// firstRewrite returns the index of the first byte of s that p rewrites, or -1.
func firstRewrite(s string, p policy) int {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < utf8.RuneSelf:
			if asciiNeedsRewrite(c, p) {
				return i
			}
			i++
		case p&escControls == 0:
			i++ // only ASCII is rewritten, and no byte of a longer rune is ASCII
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if size == 1 && r == utf8.RuneError || hidden(r) {
				return i
			}
			i += size
		}
	}
	return -1
}

// asciiNeedsRewrite reports whether p rewrites the ASCII byte c.
func asciiNeedsRewrite(c byte, p policy) bool {
	switch {
	case (c == '\n' || c == '\t') && p&escKeepLines != 0:
		return false
	case c == '\\':
		return p&escBackslash != 0
	case c == '|':
		return p&escPipe != 0
	case c == '\n' || c == '\r':
		return p&(escControls|escLayout|escBreak) != 0
	case c == '\t':
		return p&(escControls|escLayout) != 0
	case c < 0x20 || c == 0x7f:
		return p&escControls != 0
	}
	return false
}

// appendEscaped appends s to dst, copying s[:from] as it is (the caller has checked it) and
// rewriting the rest by p.
func appendEscaped(dst []byte, s string, from int, p policy) []byte {
	dst = append(dst, s[:from]...)
	for i := from; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if !asciiNeedsRewrite(c, p) {
				dst = append(dst, c)
				continue
			}
			switch {
			case c == '\\':
				dst = append(dst, `\\`...)
			case c == '|':
				dst = append(dst, `\|`...)
			case c == '\n' && p&(escControls|escLayout) != 0:
				dst = append(dst, `\n`...)
			case c == '\r' && p&(escControls|escLayout) != 0:
				dst = append(dst, `\r`...)
			case c == '\t':
				dst = append(dst, `\t`...)
			case c == '\n' || c == '\r': // escBreak
				if c == '\r' && i < len(s) && s[i] == '\n' {
					i++
				}
				dst = append(dst, "<br>"...)
			default:
				dst = appendHexByte(dst, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case p&escControls == 0:
			dst = append(dst, s[i:i+size]...)
		case size == 1 && r == utf8.RuneError:
			dst = appendHexByte(dst, c)
		case hidden(r):
			dst = appendRuneEscape(dst, r)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// hidden reports whether r is a control or an invisible character that Escape must show as
// an escape: Unicode categories Cc, Cf, Zl and Zp and the other default-ignorable code
// points. Variation selectors are not among them: emoji need them.
func hidden(r rune) bool {
	switch {
	case r < 0x20 || r >= 0x7f && r <= 0x9f:
		return true
	case r < 0xad:
		return false // printable ASCII and Latin-1, the common case
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point)
}

const hexDigits = "0123456789abcdef"

// appendHexByte appends the \xHH escape of a byte.
func appendHexByte(dst []byte, c byte) []byte {
	return append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendRuneEscape appends the \uHHHH escape of r, or \UHHHHHHHH above U+FFFF, the forms Go
// and Python readers know.
func appendRuneEscape(dst []byte, r rune) []byte {
	digits := 4
	dst = append(dst, '\\', 'u')
	if r > 0xffff {
		digits = 8
		dst[len(dst)-1] = 'U'
	}
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[(r>>shift)&0xf])
	}
	return dst
}
