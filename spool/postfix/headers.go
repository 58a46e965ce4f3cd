package postfix

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// headerReader collects the primary header block of a message from content records, the way
// postcat decides where it ends: at the first line that is neither a header nor a continuation
// line, unless that line continues an unterminated (L) record. Of the lines it takes it keeps
// only those of keptHeaders (with their continuation lines): copying every header of a
// million messages would cost more than reading them.
type headerReader struct {
	lines   []string
	partial []byte // an L record's text waiting for the rest of its line
	bytes   int    // bytes of the header lines taken so far, kept or not
	count   int    // header lines taken so far, kept or not
	keeping bool   // the last header line taken is one of keptHeaders
	done    bool
}

// keptHeaders are the headers the messages table shows.
var keptHeaders = [...]string{"Subject", "From", "Message-ID"}

// add takes one content record. cont is true for an L record (text without line end).
func (h *headerReader) add(cont bool, data []byte) {
	if cont {
		if h.bytes+len(h.partial) < maxHeaderBytes {
			h.partial = append(h.partial, data...)
		}
		return
	}
	line := data
	if h.partial != nil {
		line = append(h.partial, data...)
		h.partial = nil
	}
	if !isHeaderLine(line) && !(h.count > 0 && isContinuation(line)) {
		h.done = true
		return
	}
	if h.bytes < maxHeaderBytes {
		h.count++
		h.bytes += len(line)
		if !isContinuation(line) {
			h.keeping = isKept(line)
		}
		if h.keeping {
			h.lines = append(h.lines, string(line))
		}
	}
}

// isKept reports whether a header line is one of keptHeaders, by the test Header applies.
func isKept(line []byte) bool {
	name, _, _ := bytes.Cut(line, []byte(":"))
	for _, k := range keptHeaders {
		if asciiEqualFold(name, k) {
			return true
		}
	}
	return false
}

// asciiEqualFold is strings.EqualFold for header names, which isHeaderLine limits to
// printable ASCII, without converting name to a string.
func asciiEqualFold(name []byte, k string) bool {
	if len(name) != len(k) {
		return false
	}
	for i := range name {
		a, b := name[i], k[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func isContinuation(line []byte) bool {
	return len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
}

// isHeaderLine reports whether line starts with a header name (printable ASCII other than
// space and colon) followed by a colon.
func isHeaderLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range line[:i] {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// Header returns the unfolded value of the first header called name (case-insensitive), and
// whether there was one. The value is as stored: RFC 2047 words are not decoded.
func (h *headerReader) Header(name string) (string, bool) {
	for i, line := range h.lines {
		n, v, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(n, name) || isContinuation([]byte(line)) {
			continue
		}
		var b strings.Builder
		b.WriteString(v)
		for _, next := range h.lines[i+1:] {
			if !isContinuation([]byte(next)) {
				break
			}
			b.WriteString(next)
		}
		return strings.TrimSpace(b.String()), true
	}
	return "", false
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader lets RFC 2047 words in any charset the WHATWG encoding index knows be decoded,
// since spam and legitimate mail alike arrive in windows-1251, koi8-r, iso-2022-jp and more.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(input), nil
}

// decodeHeader decodes RFC 2047 encoded words. A value that cannot be decoded is kept as
// stored, with invalid UTF-8 replaced so it is still searchable text.
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
