package mqsql

import "strings"

// AddrSpec returns the address a stored value names, the one parser of addresses as MTAs
// store them that every driver's rows and SQL functions go through. Postfix and Exim store
// the bare address (user@example.com); Sendmail keeps what a submitter wrote, so a recipient
// may be "Donkey <admin@example.com>" or "<admin@example.com>" (RPFD:Donkey
// <admin@example.com> in a qf that sendmail -odq wrote). A value ending in '>' is the text
// between it and the last '<' before it, without a source route
// ("<@relay,@hop:user@example.com>" is user@example.com), and "" for "<>". Any other value
// is returned as it is: a bare address ending in '>' cannot be valid mail, and a '<' inside a
// local part ("a<b"@example.com, stored unquoted as a<b@example.com) is kept.
func AddrSpec(stored string) string {
	a := strings.TrimSpace(stored)
	i := strings.LastIndexByte(a, '<')
	if i < 0 || !strings.HasSuffix(a, ">") {
		return stored
	}
	a = strings.TrimSpace(a[i+1 : len(a)-1])
	if strings.HasPrefix(a, "@") {
		if j := strings.IndexByte(a, ':'); j >= 0 {
			a = a[j+1:]
		}
	}
	return a
}

// Domain returns the lower-cased domain of an address (the part after the last '@' of its
// AddrSpec), or "" when there is none. Queue shape, routing and most admin questions group
// mail by it.
func Domain(address string) string {
	address = AddrSpec(address)
	i := strings.LastIndexByte(address, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(address[i+1:])
}

// LocalPart returns the part of an address's AddrSpec before the last '@' (the whole of it
// when there is no '@'), as stored: unquoted.
func LocalPart(address string) string {
	address = AddrSpec(address)
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
