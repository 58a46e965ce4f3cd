package metrics_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/metrics"
)

// TestSeriesLimit checks that a metric whose query would create 10,000 series is cut to its
// series_limit, and says so: in mqsql_metric_series_dropped and once in the log.
func TestSeriesLimit(t *testing.T) {
	ix := sampleIndex(t)
	var l logs
	c := sqlCollector(t, ix, `name: many
help: One series per number.
type: gauge
query: WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
  SELECT i AS number, i FROM n
`, &l)
	for range 2 {
		got := scrape(t, c)
		if n := strings.Count(got, "\nmany{"); n != metrics.DefaultSeriesLimit {
			t.Errorf("%d series of many, want %d", n, metrics.DefaultSeriesLimit)
		}
		if !strings.Contains(got, `mqsql_metric_series_dropped{metric="many"} 9000`+"\n") {
			t.Errorf("no mqsql_metric_series_dropped of 9000 in:\n%s", without(got, "many"))
		}
	}
	if got := l.String(); strings.Count(got, "series_limit 1000") != 1 || !strings.Contains(got, "9000 left out") {
		t.Errorf("log says %q, want one line about the 9000 rows left out", got)
	}
}

// slowAndFast are a query that runs for minutes and one that answers at once.
const slowAndFast = `name: slow
help: Counts to two billion.
type: gauge
timeout: 200ms
query: WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000)
  SELECT count(*) FROM n

name: fast
help: Messages per queue.
type: gauge
query: SELECT queue, count(*) FROM messages GROUP BY queue
`

// TestSlowQueryTimesOut checks that a slow query is stopped at its timeout, counted as an
// error and logged, and that the other metrics of the scrape are there all the same, on a
// memory index and on a file (whose interrupted connection the pool drops), scrape after
// scrape.
func TestSlowQueryTimesOut(t *testing.T) {
	for _, kind := range []string{"memory", "file"} {
		t.Run(kind, func(t *testing.T) {
			ix := sampleIndex(t)
			if kind == "file" {
				ix = fileIndex(t)
			}
			var l logs
			c := sqlCollector(t, ix, slowAndFast, &l)
			for i := 1; i <= 3; i++ {
				start := time.Now()
				got := scrape(t, c)
				if took := time.Since(start); took > 3*time.Second {
					t.Errorf("scrape %d took %v; the slow query's timeout is 200ms", i, took)
				}
				for _, want := range []string{`fast{queue="deferred"} 15`, `mqsql_metric_errors_total{metric="slow"} ` + string(rune('0'+i)),
					`mqsql_metric_errors_total{metric="fast"} 0`} {
					if !strings.Contains(got, want+"\n") {
						t.Errorf("scrape %d: no %s in:\n%s", i, want, got)
					}
				}
				if strings.Contains(got, "\nslow ") {
					t.Errorf("scrape %d has a value of slow:\n%s", i, got)
				}
			}
			if got := l.String(); !strings.Contains(got, "metric slow (test.metrics:1):") || strings.Count(got, "\n") != 0 {
				t.Errorf("log says %q, want one line about slow", got)
			}
			// The index is still writable: no guarded connection went back to its pool.
			if _, err := ix.DB().Exec(`DELETE FROM events`); err != nil {
				t.Errorf("the index's pool is no longer writable: %v", err)
			}
		})
	}
}

// fileIndex is the sample spool in an index file.
func fileIndex(t *testing.T) *index.Index {
	t.Helper()
	ctx := context.Background()
	ix, err := index.Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.KeepRunningTotals(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Sync(ctx, testspool.Open(t, testspool.Copy(t, testspool.Dir(t, "spool")))); err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestDuplicateSeries checks that a query returning the same labels twice is an error of
// that metric (counted and logged), not a broken scrape.
func TestDuplicateSeries(t *testing.T) {
	ix := sampleIndex(t)
	var l logs
	c := sqlCollector(t, ix, "name: twice\nhelp: h\ntype: gauge\nquery: VALUES ('a', 1), ('a', 2)\n", &l)
	got := scrape(t, c)
	if !strings.Contains(got, `mqsql_metric_errors_total{metric="twice"} 1`+"\n") || strings.Contains(got, "\ntwice{") {
		t.Errorf("scrape:\n%s", got)
	}
	if !strings.Contains(l.String(), "twice") {
		t.Errorf("log says %q", l.String())
	}
}
