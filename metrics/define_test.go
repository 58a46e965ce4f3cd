package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/metrics"
)

// TestParseDefinitions checks the stanza format: keys, continuation lines, comments, and
// the defaults.
func TestParseDefinitions(t *testing.T) {
	text := `# a comment
name: a_messages
help: Messages,
  per queue.
type: gauge
query: SELECT queue,
	count(*) FROM messages GROUP BY queue;

name: b_total
help: B.
type: counter
query: VALUES (1)
series_limit: 7
timeout: 250ms
interval: 1m30s
`
	defs, err := metrics.ParseDefinitions(strings.NewReader(text), "x.metrics")
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Definition{
		{Name: "a_messages", Help: "Messages,\nper queue.", Type: "gauge", Query: "SELECT queue,\ncount(*) FROM messages GROUP BY queue",
			SeriesLimit: metrics.DefaultSeriesLimit, Timeout: metrics.DefaultQueryTimeout, File: "x.metrics", Line: 2},
		{Name: "b_total", Help: "B.", Type: "counter", Query: "VALUES (1)", SeriesLimit: 7, Timeout: 250 * time.Millisecond,
			Interval: 90 * time.Second, File: "x.metrics", Line: 9},
	}
	if len(defs) != len(want) {
		t.Fatalf("got %d definitions, want %d: %+v", len(defs), len(want), defs)
	}
	for i := range want {
		if defs[i] != want[i] {
			t.Errorf("definition %d:\n got %+v\nwant %+v", i, defs[i], want[i])
		}
	}
}

const validStanza = "name: m\nhelp: h\ntype: gauge\nquery: SELECT 1\n"

// TestDefinitionErrors checks that each invalid definition is refused with its line and the
// reason, whether the file itself is wrong or its query fails the index's guard.
func TestDefinitionErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		reason     string
	}{
		{"no colon", "name m\n", 1, `expected "key: value"`},
		{"unknown key", "name: m\nlabels: x\n", 2, `unknown key "labels"`},
		{"key twice", "name: m\nname: n\n", 2, "name given twice"},
		{"stray indent", "  SELECT 1\n", 1, "continues a query or help line"},
		{"bad name", "name: 9m\nhelp: h\ntype: gauge\nquery: SELECT 1\n", 1, `metric name "9m" is not valid`},
		{"colon in name", "name: a:b\nhelp: h\ntype: gauge\nquery: SELECT 1\n", 1, "is not valid"},
		{"builtin name", "\n\nname: mqsql_queue_messages\nhelp: h\ntype: gauge\nquery: SELECT 1\n", 3, "built-in"},
		{"no help", "name: m\ntype: gauge\nquery: SELECT 1\n", 1, "has no help"},
		{"bad type", "name: m\nhelp: h\ntype: histogram\nquery: SELECT 1\n", 1, "type must be gauge or counter"},
		{"counter name", "name: m\nhelp: h\ntype: counter\nquery: SELECT 1\n", 1, "ends in _total"},
		{"no query", "name: m\nhelp: h\ntype: gauge\n", 1, "has no query"},
		{"bad limit", "name: m\nseries_limit: 0\n", 2, "series_limit must be a positive"},
		{"bad timeout", "name: m\ntimeout: soon\n", 2, "timeout must be a positive duration"},
		{"bad interval", "name: m\nhelp: h\ninterval: often\n", 3, "interval must be a duration of at least 1s"},
		{"short interval", "name: m\ninterval: 500ms\n", 2, "interval must be a duration of at least 1s"},
		{"no interval", "name: m\ninterval: 0s\n", 2, "interval must be a duration of at least 1s"},
		{"twice", validStanza + "\n" + validStanza, 6, "already defined on line 1"},
		{"delete", validStanza + "\nname: n\nhelp: h\ntype: gauge\nquery: DELETE FROM messages\n", 6, "must be a SELECT"},
		{"delete in with", "name: n\nhelp: h\ntype: gauge\nquery: WITH x AS (SELECT 1) DELETE FROM messages\n", 1, "not read-only"},
		{"update in with", "name: n\nhelp: h\ntype: gauge\nquery: WITH x AS (SELECT 1) UPDATE messages SET queue = 'hold'\n", 1, "not read-only"},
		{"load_extension", "name: n\nhelp: h\ntype: gauge\nquery: SELECT load_extension('/tmp/x.so')\n", 1, "loading extensions is not allowed"},
		{"attach", "name: n\nhelp: h\ntype: gauge\nquery: WITH x AS (SELECT 1) SELECT * FROM x; ATTACH '/tmp/x' AS x\n", 1, "only one statement"},
		{"two statements", "name: n\nhelp: h\ntype: gauge\nquery: SELECT 1; DELETE FROM messages\n", 1, "only one statement"},
		{"no such table", "name: n\nhelp: h\ntype: gauge\nquery: SELECT count(*) FROM nosuch\n", 1, "no such table"},
		{"label name", "name: n\nhelp: h\ntype: gauge\nquery: SELECT lower(queue), count(*) FROM messages GROUP BY 1\n", 1, `column 1, "lower(queue)", is not a valid label name`},
		{"same label", "name: n\nhelp: h\ntype: gauge\nquery: SELECT queue, queue, count(*) FROM messages GROUP BY 1\n", 1, `two columns are named "queue"`},
	}
	ix := sampleIndex(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDefinitions(ix, tt.text)
			var de *metrics.DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *DefinitionError", err)
			}
			if de.File != "test.metrics" || de.Line != tt.line || !strings.Contains(de.Reason, tt.reason) {
				t.Errorf("got %q, want test.metrics:%d: ...%s...", err, tt.line, tt.reason)
			}
		})
	}
}

// checkDefinitions parses text and checks it against ix, as mqsql watch does at start.
func checkDefinitions(ix *index.Index, text string) error {
	defs, err := metrics.ParseDefinitions(strings.NewReader(text), "test.metrics")
	if err != nil {
		return err
	}
	c, err := metrics.NewSQLCollector(context.Background(), ix, defs, nil)
	if err == nil {
		c.Close()
	}
	return err
}
