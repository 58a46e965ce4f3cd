package output_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mqsql/mqsql/output"
)

var allFormats = []output.Format{
	output.Table, output.CSV, output.TSV, output.JSON, output.JSONL,
	output.Line, output.Markdown, output.List,
}

// everyCharacterRows has one row per byte value, as a string and as a []byte, and one per
// C1 control and invisible character, so that nothing dangerous is left out by accident.
func everyCharacterRows() [][]any {
	var rows [][]any
	for b := range 256 {
		s := "<" + string([]byte{byte(b)}) + ">"
		rows = append(rows, []any{s, []byte(s)})
	}
	for r := rune(0x80); r <= 0x9f; r++ {
		rows = append(rows, []any{"<" + string(r) + ">", []byte(string(r))})
	}
	for _, r := range []rune{0xad, 0x61c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029,
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff,
		0xe0001, 0xe0041} {
		rows = append(rows, []any{"<" + string(r) + ">", nil})
	}
	return rows
}

// checkTerminalSafe fails t if out holds anything a terminal could act on or that could
// hide or reorder text: a control byte other than the newline that ends a row (and, in tsv
// only, the tab that separates values, exactly cols-1 of them a line), DEL, a C1 control,
// invalid UTF-8, or a bidi or other invisible format character. It uses its own list of what
// is dangerous rather than the package's, so that the two must agree.
func checkTerminalSafe(t *testing.T, f output.Format, out []byte, cols int) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("%s: output is not valid UTF-8", f)
	}
	for i, b := range out {
		if b == '\n' || b == '\t' && f == output.TSV {
			continue
		}
		if b < 0x20 || b == 0x7f {
			t.Errorf("%s: raw control byte %#02x at offset %d: %q", f, b, i, context(out, i))
			return
		}
	}
	for i, r := range string(out) {
		dangerous := r >= 0x80 && r <= 0x9f || // C1, including the one-rune CSI
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || // bidi embeddings, overrides, isolates
			r == 0x200e || r == 0x200f || r == 0x61c || // bidi marks
			r >= 0x200b && r <= 0x200d || r == 0x2060 || r == 0xfeff || r == 0xad || // zero width
			r == 0x2028 || r == 0x2029 ||
			unicode.Is(unicode.Cf, r)
		if dangerous {
			t.Errorf("%s: raw %U at offset %d: %q", f, r, i, context(out, i))
			return
		}
	}
	if f == output.TSV {
		for n, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if tabs := strings.Count(line, "\t"); tabs != cols-1 {
				t.Errorf("tsv: line %d has %d tabs, want %d: %q", n+1, tabs, cols-1, line)
			}
		}
	}
}

func context(out []byte, i int) string {
	return string(out[max(i-20, 0):min(i+20, len(out))])
}

// With Escape set, no format lets a control or invisible character through, in values or
// column names, whatever the other options.
func TestEscapeKeepsTerminalSafe(t *testing.T) {
	columns := []string{"evil\x1b[31m\u202ename\n", "raw\u009b\xff"}
	sets := []struct {
		name    string
		columns []string
		rows    [][]any
	}{
		{"hostile fixture", hostileColumns, hostileRows},
		{"every character", columns, everyCharacterRows()},
	}
	for _, f := range allFormats {
		for _, set := range sets {
			for _, opt := range []output.Options{
				{Format: f, Escape: true},
				{Format: f, Escape: true, Headers: true, Width: 50},
			} {
				var buf bytes.Buffer
				if err := output.Write(&buf, opt, set.columns, set.rows); err != nil {
					t.Fatal(err)
				}
				checkTerminalSafe(t, f, buf.Bytes(), len(set.columns))
			}
		}
	}
}

// JSON needs no Escape to be safe: its own escaping keeps every control out.
func TestJSONIsSafeWithoutEscape(t *testing.T) {
	for _, f := range []output.Format{output.JSON, output.JSONL} {
		var buf bytes.Buffer
		if err := output.Write(&buf, output.Options{Format: f}, []string{"a\x1b", "b"}, everyCharacterRows()); err != nil {
			t.Fatal(err)
		}
		checkTerminalSafe(t, f, buf.Bytes(), 2)
	}
}

func FuzzEscapedOutputIsTerminalSafe(f *testing.F) {
	f.Add("\x1b[2J\x1b]0;pwned\x07", []byte("\xff\xfe"))
	f.Add("\u009b31m\u202e\u2066", []byte("a\tb\nc\r"))
	f.Add("日本語 🎉 | , \" \\", []byte{})
	f.Fuzz(func(t *testing.T, s string, b []byte) {
		for _, format := range allFormats {
			var buf bytes.Buffer
			opt := output.Options{Format: format, Escape: true, Headers: true, Width: 30}
			if err := output.Write(&buf, opt, []string{s, "b"}, [][]any{{s, b}, {b, s}}); err != nil {
				t.Fatal(err)
			}
			checkTerminalSafe(t, format, buf.Bytes(), 2)
		}
	})
}
