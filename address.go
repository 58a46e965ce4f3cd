package mqsql

import "strings"

// Domain returns the lower-cased domain of an address (the part after the last '@'), or ""
// when there is none. Queue shape, routing and most admin questions group mail by it.
func Domain(address string) string {
	i := strings.LastIndexByte(address, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(address[i+1:])
}

// LocalPart returns the part of an address before the last '@' (the whole address when
// there is no '@'), as stored: unquoted.
func LocalPart(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		return address[:i]
	}
	return address
}

// QuoteLocal quotes the local part of an address when it is not a valid RFC 822 dot-atom, the
// way Postfix's quote_822_local does before it shows an address (postqueue, logs). Queue
// files store addresses unquoted; logs and postqueue show them quoted, so comparing the two
// needs this.
func QuoteLocal(address string) string {
	local, rest := address, ""
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		local, rest = address[:i], address[i:]
	}
	if isDotAtom(local) {
		return address
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if c := local[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	b.WriteString(rest)
	return b.String()
}

// UnquoteLocal undoes QuoteLocal, so an address taken from a log can be stored the way queue
// files store addresses.
func UnquoteLocal(address string) string {
	i := strings.LastIndexByte(address, '@')
	local, rest := address, ""
	if i >= 0 {
		local, rest = address[:i], address[i:]
	}
	if len(local) < 2 || local[0] != '"' || local[len(local)-1] != '"' {
		return address
	}
	var b strings.Builder
	for j := 1; j < len(local)-1; j++ {
		if local[j] == '\\' && j+1 < len(local)-1 {
			j++
		}
		b.WriteByte(local[j])
	}
	b.WriteString(rest)
	return b.String()
}

// isDotAtom reports whether s can be shown unquoted: non-empty atoms of characters other than
// RFC 822 specials, space and controls, joined by single dots. Bytes of UTF-8 text are allowed,
// as Postfix allows them.
func isDotAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, atom := range strings.Split(s, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			c := atom[i]
			if c <= ' ' || c == 0x7f || strings.IndexByte(`()<>@,;:\".[]`, c) >= 0 {
				return false
			}
		}
	}
	return true
}
