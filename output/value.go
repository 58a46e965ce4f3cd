package output

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// kind is what a renderer needs to know about a value besides its text: NULL is shown by
// Options.NullValue and numbers are right-aligned in tables.
type kind uint8

const (
	kindText kind = iota
	kindNumber
	kindNull
)

// timeLayout is the layout modernc.org/sqlite writes times in when asked for SQLite's own
// format, so a time shows as sqlite3 shows the same stored text.
const timeLayout = "2006-01-02 15:04:05.999999999-07:00"

// plainText returns the unescaped text of a value as the text formats show it, and its kind.
// The text of NULL is empty: each format decides what NULL looks like.
func plainText(v any) (string, kind) {
	switch v := v.(type) {
	case nil:
		return "", kindNull
	case int64:
		return strconv.FormatInt(v, 10), kindNumber
	case float64:
		return formatFloat(v), kindNumber
	case string:
		return v, kindText
	case []byte:
		return string(v), kindText
	case bool:
		if v {
			return "1", kindNumber
		}
		return "0", kindNumber
	case time.Time:
		return v.Format(timeLayout), kindText
	case int:
		return strconv.Itoa(v), kindNumber
	}
	return fmt.Sprint(v), kindText
}

// cellText returns the text a text format writes for v: null for NULL, numbers as they are
// (their text never needs escaping), everything else rewritten by p.
func cellText(v any, null string, p policy) (string, kind) {
	s, k := plainText(v)
	switch k {
	case kindNull:
		return null, k
	case kindText:
		s = escape(s, p)
	}
	return s, k
}

// formatFloat writes f as sqlite3 does, with a decimal point always present so that a real
// never reads as an integer (1.0, 1.0e+20), in exponent form below 1e-4 and from 1e15 up,
// but with the fewest digits that read back to f rather than a fixed 15, so no precision is
// lost in an export.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX: the shortest digits and the exponent
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x < -4 || x >= 15 {
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		return mant + "e" + exp
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
