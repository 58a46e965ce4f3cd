package metrics

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults of a Definition.
const (
	DefaultSeriesLimit  = 1000
	DefaultQueryTimeout = 5 * time.Second
)

// Definition is one metric defined in SQL: a --metrics file stanza.
type Definition struct {
	Name  string
	Help  string
	Type  string // "gauge" or "counter"
	Query string // a read-only SELECT: the last column is the value, the others are labels
	// SeriesLimit is how many series one scrape keeps; rows beyond it are dropped and counted
	// in mqsql_metric_series_dropped.
	SeriesLimit int
	// Timeout bounds one run of the query.
	Timeout time.Duration
	// Interval, when set, runs the query in the background every Interval instead of at each
	// scrape, which serves the last run's series: for a query too slow to run per scrape.
	// Zero runs it at scrape time.
	Interval time.Duration
	// File and Line say where the stanza starts, for error messages.
	File string
	Line int
}

// DefinitionError is an invalid --metrics file: where and why. mqsql refuses to start with it.
type DefinitionError struct {
	File   string
	Line   int
	Reason string
}

func (e *DefinitionError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// LoadDefinitions reads a --metrics file (see ParseDefinitions).
func LoadDefinitions(path string) ([]Definition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read metrics definitions: %w", err)
	}
	defer f.Close()
	return ParseDefinitions(f, path)
}

// ParseDefinitions reads metric definitions in mqsql's stanza format, which the standard
// library parses and an admin can write by hand (SQL reads badly inside JSON strings, and YAML
// would need a dependency for one small file). A stanza is a run of "key: value" lines; blank
// lines separate stanzas; lines starting with "#" are comments; a line that starts with a
// space or tab continues the value above (for a query over several lines). Keys: name, help,
// type (gauge or counter), query, and optionally series_limit (default 1000), timeout (a Go
// duration, default 5s) and interval (a Go duration: run the query in the background that
// often instead of at each scrape). Every error says the file, the line and the reason.
func ParseDefinitions(r io.Reader, file string) ([]Definition, error) {
	p := &parser{file: file, seen: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if err := p.line(n, sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return p.defs, nil
}

// parser is the state of ParseDefinitions.
type parser struct {
	file    string
	defs    []Definition
	cur     *Definition
	lastKey string
	keys    map[string]bool // keys of the current stanza
	seen    map[string]int  // metric names defined so far, with their lines
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &DefinitionError{File: p.file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// line takes one line of the file.
func (p *parser) line(n int, text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return p.end()
	case strings.HasPrefix(text, "#"):
		return nil
	case text[0] == ' ' || text[0] == '\t':
		if p.cur == nil || p.lastKey != "query" && p.lastKey != "help" {
			return p.errorf(n, "an indented line continues a query or help line, but none is above it")
		}
		return p.set(n, p.lastKey, strings.TrimSpace(text), true)
	}
	key, value, ok := strings.Cut(text, ":")
	if !ok {
		return p.errorf(n, "expected \"key: value\" (keys: name, help, type, query, series_limit, timeout, interval), got %q", text)
	}
	if p.cur == nil {
		p.cur = &Definition{File: p.file, Line: n, SeriesLimit: DefaultSeriesLimit, Timeout: DefaultQueryTimeout}
		p.keys = map[string]bool{}
	}
	key = strings.TrimSpace(key)
	if p.keys[key] {
		return p.errorf(n, "%s given twice in one definition", key)
	}
	p.keys[key], p.lastKey = true, key
	return p.set(n, key, strings.TrimSpace(value), false)
}

// set stores one value (more, for a continuation line, is appended).
func (p *parser) set(n int, key, value string, more bool) error {
	d := p.cur
	switch key {
	case "name":
		d.Name = value
	case "help":
		d.Help = join(d.Help, value, more)
	case "type":
		d.Type = value
	case "query":
		d.Query = join(d.Query, value, more)
	case "series_limit":
		v, err := strconv.Atoi(value)
		if err != nil || v < 1 {
			return p.errorf(n, "series_limit must be a positive whole number, got %q", value)
		}
		d.SeriesLimit = v
	case "timeout":
		v, err := time.ParseDuration(value)
		if err != nil || v <= 0 {
			return p.errorf(n, "timeout must be a positive duration such as 2s or 500ms, got %q", value)
		}
		d.Timeout = v
	case "interval":
		v, err := time.ParseDuration(value)
		if err != nil || v < time.Second {
			return p.errorf(n, "interval must be a duration of at least 1s such as 30s or 5m, got %q", value)
		}
		d.Interval = v
	default:
		return p.errorf(n, "unknown key %q (keys: name, help, type, query, series_limit, timeout, interval)", key)
	}
	return nil
}

func join(old, value string, more bool) string {
	if !more || old == "" {
		return value
	}
	return old + "\n" + value
}

// end checks and keeps the stanza that a blank line or the end of the file closes.
func (p *parser) end() error {
	d := p.cur
	p.cur, p.lastKey = nil, ""
	if d == nil {
		return nil
	}
	d.Query = strings.TrimRight(strings.TrimSpace(d.Query), "; \t\n")
	if err := checkDefinition(d); err != "" {
		return p.errorf(d.Line, "%s", err)
	}
	if line, dup := p.seen[d.Name]; dup {
		return p.errorf(d.Line, "metric %s is already defined on line %d", d.Name, line)
	}
	p.seen[d.Name] = d.Line
	p.defs = append(p.defs, *d)
	return nil
}

var metricName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// checkDefinition says what is wrong with a stanza, "" when nothing is.
func checkDefinition(d *Definition) string {
	switch {
	case d.Name == "":
		return "the definition has no name"
	case !metricName.MatchString(d.Name) || strings.HasPrefix(d.Name, "__"):
		return fmt.Sprintf("metric name %q is not valid: letters, digits and _, not starting with a digit or __ (colons are for recording rules)", d.Name)
	case builtinNames[d.Name]:
		return fmt.Sprintf("metric name %s is one of mqsql's built-in metrics", d.Name)
	case d.Help == "":
		return fmt.Sprintf("metric %s has no help", d.Name)
	case d.Type != "gauge" && d.Type != "counter":
		return fmt.Sprintf("metric %s: type must be gauge or counter, got %q", d.Name, d.Type)
	case d.Type == "counter" && !strings.HasSuffix(d.Name, "_total"):
		return fmt.Sprintf("metric %s: a counter's name ends in _total", d.Name)
	case d.Type == "gauge" && strings.HasSuffix(d.Name, "_total"):
		return fmt.Sprintf("metric %s: only a counter's name ends in _total", d.Name)
	case d.Query == "":
		return fmt.Sprintf("metric %s has no query", d.Name)
	}
	return ""
}
