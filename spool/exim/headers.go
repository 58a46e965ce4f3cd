package exim

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// field is one header as an admin reads it: the name as written and the value unfolded,
// RFC 2047 decoded and trimmed.
type field struct {
	name, value string
}

// fields lists the headers Exim would send (not the ones marked '*': deleted or replaced).
func (h *hfile) fields() []field {
	out := make([]field, 0, len(h.headers))
	for _, hd := range h.headers {
		if hd.flag == '*' {
			continue
		}
		name, value, ok := bytes.Cut(hd.text, []byte(":"))
		if !ok {
			continue
		}
		out = append(out, field{name: string(bytes.TrimSpace(name)), value: decodeHeader(unfold(value))})
	}
	return out
}

// header returns the first sent header called name (in any case).
func (h *hfile) header(name string) (string, bool) {
	for _, hd := range h.headers {
		if hd.flag == '*' || len(hd.text) <= len(name) || hd.text[len(name)] != ':' {
			continue
		}
		if strings.EqualFold(string(hd.text[:len(name)]), name) {
			return decodeHeader(unfold(hd.text[len(name)+1:])), true
		}
	}
	return "", false
}

// unfold joins a header's continuation lines and trims it.
func unfold(v []byte) string {
	s := strings.ReplaceAll(string(v), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", "")
	return strings.TrimSpace(s)
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader passes text in charsets Go does not know through as it is: a header with an
// unknown charset still shows its bytes rather than nothing.
func charsetReader(_ string, input io.Reader) (io.Reader, error) { return input, nil }

// decodeHeader decodes RFC 2047 encoded words; text that does not decode is kept as written,
// with invalid UTF-8 replaced so that the value is valid text.
func decodeHeader(v string) string {
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
	}
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	return v
}
