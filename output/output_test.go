package output_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/output"
)

// render writes the hostile result set and then an empty one through one Renderer.
func render(t testing.TB, opt output.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	r := output.New(&buf, opt)
	sets := []struct {
		columns []string
		rows    [][]any
	}{{hostileColumns, hostileRows}, {emptyColumns, nil}}
	for _, set := range sets {
		if err := r.Begin(set.columns); err != nil {
			t.Fatal(err)
		}
		for _, row := range set.rows {
			if err := r.Row(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.End(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

var goldenCases = []struct {
	name string
	opt  output.Options
}{
	{"table", output.Options{Format: output.Table, Escape: true}},
	{"table_narrow", output.Options{Format: output.Table, Escape: true, Width: 120, NullValue: "NULL"}},
	{"table_very_narrow", output.Options{Format: output.Table, Escape: true, Width: 60}},
	{"table_noescape", output.Options{Format: output.Table}},
	{"csv", output.Options{Format: output.CSV, Headers: true}},
	{"csv_escape", output.Options{Format: output.CSV, Headers: true, Escape: true}},
	{"tsv", output.Options{Format: output.TSV, Headers: true, NullValue: `\N`}},
	{"tsv_escape", output.Options{Format: output.TSV, Headers: true, Escape: true}},
	{"json", output.Options{Format: output.JSON}},
	{"jsonl", output.Options{Format: output.JSONL}},
	{"line", output.Options{Format: output.Line, Escape: true, NullValue: "NULL"}},
	{"markdown", output.Options{Format: output.Markdown, Escape: true}},
	{"markdown_noescape", output.Options{Format: output.Markdown}},
	{"list", output.Options{Format: output.List, Headers: true, Escape: true, NullValue: "NULL"}},
	{"list_noescape", output.Options{Format: output.List, Headers: true}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.opt)
			golden.Check(t, tc.name, got)
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]output.Format{
		"table": output.Table, "csv": output.CSV, "tsv": output.TSV, "json": output.JSON,
		"jsonl": output.JSONL, "line": output.Line, "markdown": output.Markdown, "list": output.List,
		" JSON ": output.JSON, "box": output.Table, "tabs": output.TSV,
	} {
		got, err := output.ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := output.ParseFormat("html")
	if err == nil {
		t.Fatal(`ParseFormat("html") succeeded`)
	}
	for _, name := range []string{`"html"`, "table", "csv", "tsv", "json", "jsonl", "line", "markdown", "list"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not mention %s", err, name)
		}
	}
}

func TestHuman(t *testing.T) {
	for f, want := range map[output.Format]bool{
		output.Table: true, output.Line: true, output.Markdown: true, output.List: true, "": true,
		output.CSV: false, output.TSV: false, output.JSON: false, output.JSONL: false,
	} {
		if got := f.Human(); got != want {
			t.Errorf("Format(%q).Human() = %v, want %v", f, got, want)
		}
	}
}

func TestZeroOptionsAreSqlite3Defaults(t *testing.T) {
	var buf bytes.Buffer
	err := output.Write(&buf, output.Options{}, []string{"a", "b"}, [][]any{{int64(1), nil}, {"x", 2.0}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "1|\nx|2.0\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCallOrder(t *testing.T) {
	var buf bytes.Buffer
	r := output.New(&buf, output.Options{Format: output.CSV})
	if err := r.Row([]any{1}); err == nil {
		t.Error("Row before Begin succeeded")
	}
	if err := r.End(); err == nil {
		t.Error("End before Begin succeeded")
	}
	if err := r.Begin([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Begin([]string{"c"}); err == nil {
		t.Error("second Begin before End succeeded")
	}
	if err := r.Row([]any{int64(1)}); err == nil || !strings.Contains(err.Error(), "1 values for 2 columns") {
		t.Errorf("short row: err = %v", err)
	}
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownFormat(t *testing.T) {
	r := output.New(&bytes.Buffer{}, output.Options{Format: "html"})
	if err := r.Begin([]string{"a"}); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("Begin with unknown format: err = %v", err)
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteErrorIsWrapped(t *testing.T) {
	for _, f := range []output.Format{output.Table, output.CSV, output.TSV, output.JSON, output.JSONL, output.Line, output.Markdown, output.List} {
		err := output.Write(failingWriter{}, output.Options{Format: f, Headers: true}, []string{"a"}, [][]any{{"x"}})
		if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), string(f)) {
			t.Errorf("%s: err = %v, want a wrapped %v naming the format", f, err, errDiskFull)
		}
	}
}

// A closed pipe must stop a long query at the next row, not after all of them.
func TestWriteErrorStopsStreaming(t *testing.T) {
	r := output.New(failingWriter{}, output.Options{Format: output.CSV})
	if err := r.Begin([]string{"a"}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 1<<16)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = r.Row([]any{long})
	}
	if !errors.Is(err, errDiskFull) {
		t.Errorf("Row kept succeeding on a failing writer: %v", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	out := render(t, output.Options{Format: output.JSON})
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("json output does not parse: %v\n%s", err, out)
	}
	var empty []map[string]any
	if err := dec.Decode(&empty); err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("empty result set: %v, %v; want []", empty, err)
	}
	if len(rows) != len(hostileRows) {
		t.Fatalf("%d objects, want %d", len(rows), len(hostileRows))
	}
	checks := []struct {
		row  int
		key  string
		want any
	}{
		{0, "subject", "\x1b[2J\x1b]0;pwned\x07Invoice overdue"},
		{0, "raw", "plain bytes"},
		{0, "urgent", true},
		{0, "score", json.Number("0.5")},
		{0, "arrived", "2026-03-14 15:09:26.535+00:00"},
		{1, "id", json.Number("9223372036854775807")},
		{1, "sender", "multi\nline\tand\ttabs"},
		{1, "raw", "//5vaw=="}, // not UTF-8, so base64
		{1, "score", json.Number("0.30000000000000004")},
		{2, "id", json.Number("-9223372036854775808")},
		{2, "subject", "invoice_\u202egnp.exe"},
		{2, "score", json.Number("1.0e+20")},
		{2, "raw", nil},
		{3, "raw", ""},
		{3, "subject", "🎉 Party 👍🏽 time"},
		{4, "id", nil},
		{4, "subject", `a|b,"c"`},
		{5, "subject", "bad \ufffd( utf8 \ufffd"},
		{5, "score", json.Number("9e999")},
		{6, "sender", "\x7fDEL \x00NUL \u2066isolate\u2069"},
	}
	for _, c := range checks {
		if got := rows[c.row][c.key]; got != c.want {
			t.Errorf("row %d %s = %#v, want %#v", c.row, c.key, got, c.want)
		}
	}
	// Keys come in column order.
	first, _, _ := bytes.Cut(out, []byte("\n"))
	last := -1
	for _, col := range hostileColumns {
		i := bytes.Index(first, []byte(`"`+col+`":`))
		if i < last {
			t.Errorf("key %q out of column order in %s", col, first)
		}
		last = i
	}
}

func TestJSONLOneObjectPerLine(t *testing.T) {
	out := render(t, output.Options{Format: output.JSONL})
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(hostileRows) {
		t.Fatalf("%d lines, want %d", len(lines), len(hostileRows))
	}
	for i, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber() // 9e999 (Inf) is valid JSON but out of float64's range
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || len(obj) != len(hostileColumns) {
			t.Errorf("line %d: %d keys, err %v", i+1, len(obj), err)
		}
		if dec.More() {
			t.Errorf("line %d holds more than one value", i+1)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	out := render(t, output.Options{Format: output.CSV, Headers: true})
	reader := csv.NewReader(bytes.NewReader(out))
	reader.FieldsPerRecord = -1 // the second result set has fewer columns
	records, err := reader.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The reader cannot tell the two result sets apart; the empty one is its header line.
	if len(records) != 1+len(hostileRows)+1 {
		t.Fatalf("%d records, want %d", len(records), len(hostileRows)+2)
	}
	if strings.Join(records[0], ",") != strings.Join(hostileColumns, ",") {
		t.Errorf("header = %q", records[0])
	}
	for i, row := range hostileRows {
		for _, col := range []int{1, 2, 5} { // subject, sender, raw: byte-faithful
			want := textOf(row[col])
			// encoding/csv reads a quoted CR LF as LF, as RFC 4180 readers do.
			want = strings.ReplaceAll(want, "\r\n", "\n")
			if got := records[i+1][col]; got != want {
				t.Errorf("row %d column %s = %q, want %q", i, hostileColumns[col], got, want)
			}
		}
	}
}

func TestTSVRoundTrip(t *testing.T) {
	for _, escape := range []bool{false, true} {
		out := render(t, output.Options{Format: output.TSV, Escape: escape})
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != len(hostileRows) {
			t.Fatalf("escape=%v: %d lines, want %d: rows must stay on one line", escape, len(lines), len(hostileRows))
		}
		for i, line := range lines {
			fields := strings.Split(line, "\t")
			if len(fields) != len(hostileColumns) {
				t.Fatalf("escape=%v: line %d has %d fields", escape, i+1, len(fields))
			}
			if escape {
				continue // escaped controls are for reading, not decoding
			}
			for _, col := range []int{1, 2, 5} {
				if got, want := unTSV(fields[col]), textOf(hostileRows[i][col]); got != want {
					t.Errorf("row %d column %s = %q, want %q", i, hostileColumns[col], got, want)
				}
			}
		}
	}
}

// unTSV undoes the tsv escapes.
func unTSV(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n", `\r`, "\r").Replace(s)
}

// textOf is the expected text of a string, []byte or NULL value.
func textOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

func TestTableZeroRowsHasHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := output.Write(&buf, output.Options{Format: output.Table, Escape: true}, []string{"queue_id", "size"}, nil); err != nil {
		t.Fatal(err)
	}
	want := "┌──────────┬──────┐\n" +
		"│ queue_id │ size │\n" +
		"├──────────┼──────┤\n" +
		"└──────────┴──────┘\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestTableFitsWidth(t *testing.T) {
	for _, w := range []int{40, 55, 72, 100} {
		out := render(t, output.Options{Format: output.Table, Escape: true, Width: w})
		for i, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if n := displayWidth(line); n > w {
				t.Errorf("width %d: line %d is %d cells: %s", w, i+1, n, line)
			}
		}
	}
}

// displayWidth counts cells without the package's helper, so the test does not only check
// that the code agrees with itself: box drawing and ASCII take one cell, the CJK and emoji
// in the fixture two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == 0x1f3fd: // skin tone modifier, part of the 👍 glyph
		case r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 ||
			r >= 0xf900 && r <= 0xfaff || r >= 0xff00 && r <= 0xff60 || r >= 0x1f300 && r <= 0x1faff):
			n += 2
		default:
			n++
		}
	}
	return n
}
