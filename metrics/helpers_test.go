package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// goldenTime is the present of the golden files: the afternoon the sample mail was queued, so
// that ages fall in qshape's middle buckets whatever day the tests run.
var goldenTime = time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)

// sampleIndex is the sample spool in memory, its clock stopped at goldenTime.
func sampleIndex(t *testing.T) *index.Index {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	// A corrupt file's arrival time is its mtime, which the copy sets to today.
	corrupt := goldenTime.Add(-3 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "corrupt", "4jcBADF1LEz5xx1"), corrupt, corrupt); err != nil {
		t.Fatal(err)
	}
	ix := testindex.Memory(t, testspool.Open(t, dir), index.WithClock(mqsql.FixedClock(goldenTime)))
	if err := ix.KeepRunningTotals(t.Context()); err != nil {
		t.Fatal(err)
	}
	return ix
}

// fixedWatcher is a watcher state that never changes.
type fixedWatcher index.WatchState

func (w fixedWatcher) State() index.WatchState { return index.WatchState(w) }

var sampleWatcher = fixedWatcher{
	Mode: "inotify", Reconcile: 5 * time.Minute, Started: goldenTime.Add(-time.Hour),
	LastChange: goldenTime.Add(-90 * time.Second), LastRescan: goldenTime.Add(-2 * time.Minute),
	LastRescanTook: 1500 * time.Millisecond, Rescans: 12, Overflows: 1,
}

// logs collects what a collector logs.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(sprintf(format, args...)))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// sqlCollector checks the definitions in text against ix.
func sqlCollector(t *testing.T, ix *index.Index, text string, l *logs) *metrics.SQLCollector {
	t.Helper()
	defs, err := metrics.ParseDefinitions(strings.NewReader(text), "test.metrics")
	if err != nil {
		t.Fatal(err)
	}
	c, err := metrics.NewSQLCollector(context.Background(), ix, defs, l.logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// scrape returns what GET /metrics answers with the collectors registered, in Prometheus'
// text format.
func scrape(t *testing.T, cs ...prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		reg.MustRegister(c)
	}
	srv := httptest.NewServer(metrics.Handler(reg, nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	return string(body)
}

// without drops the lines about the metrics whose names start with one of prefixes.
func without(text string, prefixes ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		keep := true
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) || strings.HasPrefix(line, "# HELP "+p) || strings.HasPrefix(line, "# TYPE "+p) {
				keep = false
			}
		}
		if keep {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
