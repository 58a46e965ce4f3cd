package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Format names an output format. Its values are the names users type after .mode or -mode,
// so they double as the text shown in help and in errors.
type Format string

// The formats this package renders; the package documentation details each. The zero
// Format means List, sqlite3's default mode.
const (
	Table    Format = "table"    // a box for reading on a terminal (sqlite3 .mode box)
	CSV      Format = "csv"      // RFC 4180, for spreadsheets and scripts
	TSV      Format = "tsv"      // one row a line, for cut, awk and sort
	JSON     Format = "json"     // an array of objects per result set, for jq and programs
	JSONL    Format = "jsonl"    // one object a line, for streaming into jq or a log store
	Line     Format = "line"     // one "name = value" a line, for rows too wide for a table
	Markdown Format = "markdown" // a GitHub table, for tickets and reports
	List     Format = "list"     // values joined by a separator, sqlite3's default
)

// formats lists every Format in the order help and errors show them.
var formats = []Format{Table, CSV, TSV, JSON, JSONL, Line, Markdown, List}

// aliases maps sqlite3's names for the same formats, so that habits carried over from
// sqlite3 (.mode box, .mode tabs) keep working.
var aliases = map[string]Format{
	"box":  Table,
	"tabs": TSV,
}

// ParseFormat returns the Format named by s, ignoring case and surrounding space, and also
// accepts sqlite3's names "box" (table) and "tabs" (tsv). Its error lists the valid names,
// because it is usually shown straight to a user who mistyped one.
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, f := range formats {
		if name == string(f) {
			return f, nil
		}
	}
	if f, ok := aliases[name]; ok {
		return f, nil
	}
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("output: unknown format %q (valid formats: %s)", s, strings.Join(names, ", "))
}

// Human reports whether f is meant to be read by a person rather than parsed by a program.
// The caller must always render these formats with Options.Escape set (see the package
// documentation); having the rule in code keeps every caller from restating it.
func (f Format) Human() bool {
	switch f {
	case Table, Line, Markdown, List, "":
		return true
	}
	return false
}

// Options says how results are rendered. Its zero value gives sqlite3's defaults: list mode,
// no header row, "|" between values and NULL shown as nothing.
type Options struct {
	// Format selects the renderer; the zero value means List.
	Format Format
	// Headers writes the column names as a first row in csv, tsv and list (sqlite3's
	// .headers). Table and markdown always have a header; json and jsonl carry the names as
	// keys.
	Headers bool
	// NullValue is the text shown for NULL in every format but json and jsonl, which write
	// null (sqlite3's .nullvalue). It is written as given, never escaped.
	NullValue string
	// Escape replaces control and invisible characters by visible escapes so that data
	// cannot drive or fool the terminal; see the package documentation for the exact rules
	// and for when the caller must set it.
	Escape bool
	// Width is the terminal width in cells that table mode fits itself to, cutting long
	// cells rather than wrapping them; 0 means no limit. A table with more columns than can
	// get one cell each is drawn wider.
	Width int
	// Separator goes between values in list mode; empty means "|". It is written as given.
	Separator string
}

// Renderer writes result sets in one format. It is fed one result set at a time: Begin with
// the column names, Row for each row, then End, after which Begin may start the next result
// set. Output may be held in a buffer until End, so End must be called even for a result set
// with no rows. A Renderer is not safe for concurrent use, and it does not keep the slices
// passed to it, so database/sql's reused scan buffers can be passed directly.
type Renderer interface {
	// Begin starts a result set with the given column names.
	Begin(columns []string) error
	// Row adds one row; it must have one value per column.
	Row(values []any) error
	// End finishes the result set and flushes everything written so far to the writer.
	End() error
}

// New returns a Renderer that writes to w in the format opt.Format. An unknown format is
// reported by the first call to Begin, so that New stays usable in one expression; callers
// that take a format from users should check it with ParseFormat first.
func New(w io.Writer, opt Options) Renderer {
	if opt.Format == "" {
		opt.Format = List
	}
	if opt.Separator == "" {
		opt.Separator = "|"
	}
	r := &renderer{format: opt.Format, sink: &sink{w: w}}
	r.out = bufio.NewWriter(r.sink)
	switch opt.Format {
	case Table:
		r.impl = newTable(r.out, opt)
	case CSV:
		r.impl = newCSV(r.out, opt)
	case TSV:
		r.impl = newTSV(r.out, opt)
	case JSON:
		r.impl = newJSON(r.out, false)
	case JSONL:
		r.impl = newJSON(r.out, true)
	case Line:
		r.impl = newLine(r.out, opt)
	case Markdown:
		r.impl = newMarkdown(r.out, opt)
	case List:
		r.impl = newList(r.out, opt)
	}
	return r
}

// Write renders one complete result set, for callers that already hold all its rows, such
// as tests and small meta-command outputs.
func Write(w io.Writer, opt Options, columns []string, rows [][]any) error {
	r := New(w, opt)
	if err := r.Begin(columns); err != nil {
		return err
	}
	for _, row := range rows {
		if err := r.Row(row); err != nil {
			return err
		}
	}
	return r.End()
}
