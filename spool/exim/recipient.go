package exim

import (
	"strconv"
	"strings"
)

// loginOf returns the login of line 2 ("login uid gid"), which Exim parses from the right
// because a login may contain spaces.
func loginOf(line []byte) string {
	s := string(line)
	for i := 0; i < 2; i++ {
		k := strings.LastIndexByte(s, ' ')
		if k < 0 {
			return ""
		}
		s = s[:k]
	}
	return s
}

// parseRecipient splits a recipient line as Exim 4 writes it, "ADDR ORCPT OLEN,DSN ERRTO
// ELEN,PNO#BITS", from the right: bit 1 says an errors_to part is there, bit 2 an ORCPT
// part. The address may contain spaces (quoted local parts). A line without the suffix is the
// address alone.
func parseRecipient(line string) hrcpt {
	hash := strings.LastIndexByte(line, '#')
	if hash < 0 {
		return hrcpt{address: line}
	}
	bits, err := strconv.Atoi(line[hash+1:])
	if err != nil {
		return hrcpt{address: line}
	}
	s := line[:hash]
	var orcpt string
	ok := true
	if bits&1 != 0 {
		_, s, ok = cutCounted(s)
	}
	if ok && bits&2 != 0 {
		orcpt, s, ok = cutCounted(s)
	}
	if !ok {
		return hrcpt{address: line}
	}
	return hrcpt{address: s, orcpt: orcpt}
}

// cutCounted takes "REST VALUE LEN,N" apart from the right: the LEN bytes before the last
// space are VALUE, and what precedes them and one more space is REST.
func cutCounted(s string) (value, rest string, ok bool) {
	k := strings.LastIndexByte(s, ' ')
	if k < 0 {
		return "", s, false
	}
	lenText, _, _ := strings.Cut(s[k+1:], ",")
	n, err := strconv.Atoi(lenText)
	if err != nil || n < 0 || k-n < 1 || s[k-n-1] != ' ' {
		return "", s, false
	}
	return s[k-n : k], s[:k-n-1], true
}

// origAddress is the address of an ORCPT value "rfc822;addr", xtext-decoded (RFC 3461);
// "" when there is none.
func origAddress(orcpt string) string {
	if orcpt == "" {
		return ""
	}
	_, addr, found := strings.Cut(orcpt, ";")
	if !found {
		addr = orcpt
	}
	return xtextDecode(addr)
}

// xtextDecode decodes RFC 3461 xtext ("+2B" is "+"); a malformed escape is kept as written.
func xtextDecode(s string) string {
	if !strings.Contains(s, "+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '+' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
