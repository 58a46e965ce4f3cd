package output

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonFormat writes json (an array of objects per result set, one object per line, as
// sqlite3 -json does) or jsonl (one object per line, nothing around them). Objects are
// written by hand rather than through encoding/json so that keys keep column order and
// numbers keep their SQLite form.
type jsonFormat struct {
	out   *bufio.Writer
	lines bool     // jsonl
	keys  [][]byte // each column name encoded as a JSON string and followed by ':'
	rows  int      // rows written in this result set
	buf   []byte
}

func newJSON(out *bufio.Writer, lines bool) *jsonFormat {
	return &jsonFormat{out: out, lines: lines}
}

func (j *jsonFormat) begin(columns []string) error {
	j.keys = make([][]byte, len(columns))
	for i, c := range columns {
		j.keys[i] = append(appendJSONString(nil, c), ':')
	}
	j.rows = 0
	return nil
}

func (j *jsonFormat) row(values []any) error {
	buf := j.buf[:0]
	switch {
	case j.lines:
	case j.rows == 0:
		buf = append(buf, '[')
	default:
		buf = append(buf, ",\n"...)
	}
	buf = append(buf, '{')
	for i, v := range values {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, j.keys[i]...)
		buf = appendJSONValue(buf, v)
	}
	buf = append(buf, '}')
	if j.lines {
		buf = append(buf, '\n')
	}
	j.buf = buf
	j.rows++
	_, err := j.out.Write(buf)
	return err
}

func (j *jsonFormat) end() error {
	var err error
	switch {
	case j.lines:
	case j.rows == 0:
		_, err = j.out.WriteString("[]\n")
	default:
		_, err = j.out.WriteString("]\n")
	}
	return err
}

// appendJSONValue appends v as a JSON value.
func appendJSONValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case float64:
		switch {
		case math.IsNaN(v):
			return append(dst, "null"...)
		case math.IsInf(v, 1):
			return append(dst, "9e999"...)
		case math.IsInf(v, -1):
			return append(dst, "-9e999"...)
		}
		return append(dst, formatFloat(v)...)
	case bool:
		return strconv.AppendBool(dst, v)
	case string:
		return appendJSONString(dst, v)
	case []byte:
		if utf8.Valid(v) {
			return appendJSONString(dst, string(v))
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v)
		return append(dst, '"')
	case time.Time:
		return appendJSONString(dst, v.Format(timeLayout))
	}
	return appendJSONString(dst, fmt.Sprint(v))
}

// appendJSONString appends s as a JSON string. Beyond what JSON requires, it writes DEL, C1
// controls and invisible characters as \u escapes, so that a terminal showing the JSON is
// as safe as one showing an escaped table, at no cost to a program reading it; invalid UTF-8
// becomes U+FFFD, since JSON text must be UTF-8.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, `\n`...)
			case c == '\r':
				dst = append(dst, `\r`...)
			case c == '\t':
				dst = append(dst, `\t`...)
			case c == '\b':
				dst = append(dst, `\b`...)
			case c == '\f':
				dst = append(dst, `\f`...)
			case c < 0x20 || c == 0x7f:
				dst = appendJSONEscape(dst, rune(c))
			default:
				dst = append(dst, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case size == 1 && r == utf8.RuneError:
			dst = append(dst, `\ufffd`...)
		case hidden(r):
			dst = appendJSONEscape(dst, r)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// appendJSONEscape appends r as \uHHHH, or as a surrogate pair above U+FFFF.
func appendJSONEscape(dst []byte, r rune) []byte {
	if r > 0xffff {
		hi, lo := utf16.EncodeRune(r)
		return appendJSONEscape(appendJSONEscape(dst, hi), lo)
	}
	return append(dst, '\\', 'u',
		hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
