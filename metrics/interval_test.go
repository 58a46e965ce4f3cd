package metrics_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/metrics"
)

// fakeTicker is a metrics.Ticker that ticks when the test says so, one channel per interval.
type fakeTicker struct {
	mu      sync.Mutex
	asked   []time.Duration
	ticks   map[time.Duration]chan time.Time
	stopped int
}

func (f *fakeTicker) ticker(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ticks == nil {
		f.ticks = map[time.Duration]chan time.Time{}
	}
	ch := make(chan time.Time)
	f.asked = append(f.asked, d)
	f.ticks[d] = ch
	return ch, func() { f.mu.Lock(); f.stopped++; f.mu.Unlock() }
}

// tick ticks the loop of interval d once; it returns when the loop took the tick.
func (f *fakeTicker) tick(d time.Duration) {
	f.mu.Lock()
	ch := f.ticks[d]
	f.mu.Unlock()
	ch <- time.Time{}
}

// intervalCollector checks text against ix with ticks from f, and starts its loops.
func intervalCollector(t *testing.T, ix *index.Index, text string, f *fakeTicker, l *logs) *metrics.SQLCollector {
	t.Helper()
	defs, err := metrics.ParseDefinitions(strings.NewReader(text), "test.metrics")
	if err != nil {
		t.Fatal(err)
	}
	c, err := metrics.NewSQLCollector(context.Background(), ix, defs, l.logf, metrics.WithTicker(f.ticker))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

const heldTwice = `name: held_interval
help: Held messages, counted every 30 seconds.
type: gauge
interval: 30s
query: SELECT count(*) FROM messages WHERE queue = 'hold'

name: held_scrape
help: Held messages, counted at each scrape.
type: gauge
query: SELECT count(*) FROM messages WHERE queue = 'hold'
`

// TestIntervalMetricServesLastRun checks that a metric with an interval runs once at Start
// and then at each tick of a ticker of that interval, and that a scrape serves its last run,
// not the index as it is now (which the same query at scrape time shows); Close stops the
// loop.
func TestIntervalMetricServesLastRun(t *testing.T) {
	ix := sampleIndex(t)
	var f fakeTicker
	var l logs
	c := intervalCollector(t, ix, heldTwice, &f, &l)
	before := scrape(t, c)
	if strings.Contains(before, "\nheld_interval ") || !strings.Contains(before, "\nheld_scrape ") {
		t.Errorf("before Start:\n%s", before)
	}
	held := counted(t, ix, `SELECT count(*) FROM messages WHERE queue = 'hold'`)
	c.Start(context.Background())
	metrics.WaitForRuns(c, "held_interval", 1)
	want := []string{"held_interval " + held, "held_scrape " + held}
	check(t, scrape(t, c), "after the first run", want...)

	if _, err := ix.DB().Exec(`UPDATE queue_files SET queue = 'hold' WHERE id = (SELECT min(id) FROM queue_files WHERE queue = 'deferred')`); err != nil {
		t.Fatal(err)
	}
	more := counted(t, ix, `SELECT count(*) FROM messages WHERE queue = 'hold'`)
	if more == held {
		t.Fatal("no message was held: the test proves nothing")
	}
	for range 2 {
		check(t, scrape(t, c), "before the tick", "held_interval "+held, "held_scrape "+more)
	}
	f.tick(30 * time.Second)
	metrics.WaitForRuns(c, "held_interval", 2)
	check(t, scrape(t, c), "after the tick", "held_interval "+more, "held_scrape "+more,
		`mqsql_metric_errors_total{metric="held_interval"} 0`)

	c.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.asked) != 1 || f.asked[0] != 30*time.Second || f.stopped != 1 {
		t.Errorf("ticker asked for %v, stopped %d times; want one of 30s, stopped once", f.asked, f.stopped)
	}
	if l.String() != "" {
		t.Errorf("logged %q", l.String())
	}
}

// TestIntervalMetricLimits checks that an interval metric keeps the limits of a metric run at
// scrape time: a scrape while a slow run is under way does not wait for it, a run that times
// out is counted once (not once per scrape) and leaves the metric out until a run works, and
// the series limit cuts what the run returned.
func TestIntervalMetricLimits(t *testing.T) {
	ix := sampleIndex(t)
	var f fakeTicker
	var l logs
	c := intervalCollector(t, ix, `name: stuck
help: Counts to two billion, for a minute at most.
type: gauge
timeout: 1m
interval: 1m
query: WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000)
  SELECT count(*) FROM n

name: slow
help: Counts to two billion, for 300ms at most.
type: gauge
timeout: 300ms
interval: 2m
query: WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000)
  SELECT count(*) FROM n

name: many
help: One series per number.
type: gauge
interval: 3m
query: WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
  SELECT i AS number, i FROM n
`, &f, &l)
	c.Start(context.Background())
	metrics.WaitForRuns(c, "slow", 1)
	metrics.WaitForRuns(c, "many", 1)
	for i := range 3 {
		start := time.Now()
		got := scrape(t, c)
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("scrape %d took %v: it waited for the run of stuck", i, took)
		}
		check(t, got, "after the first runs", `mqsql_metric_errors_total{metric="stuck"} 0`,
			`mqsql_metric_errors_total{metric="slow"} 1`, `mqsql_metric_series_dropped{metric="many"} 9000`,
			`mqsql_metric_errors_total{metric="many"} 0`)
		if n := strings.Count(got, "\nmany{"); n != metrics.DefaultSeriesLimit {
			t.Errorf("scrape %d: %d series of many, want %d", i, n, metrics.DefaultSeriesLimit)
		}
		if strings.Contains(got, "\nslow ") || strings.Contains(got, "\nstuck ") {
			t.Errorf("scrape %d: a value of slow or stuck, whose runs did not end well:\n%s", i, got)
		}
	}
	f.tick(2 * time.Minute)
	metrics.WaitForRuns(c, "slow", 2)
	check(t, scrape(t, c), "after the second run of slow", `mqsql_metric_errors_total{metric="slow"} 2`)
	if got := l.String(); strings.Count(got, "metric slow (test.metrics:9):") != 1 || strings.Count(got, "9000 left out") != 1 ||
		strings.Count(got, "\n") != 1 {
		t.Errorf("log says %q, want one line about slow and one about the 9000 rows of many", got)
	}
	start := time.Now()
	c.Close()
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("Close took %v: it did not stop the run of stuck", took)
	}
	if got := l.String(); strings.Contains(got, "stuck") {
		t.Errorf("the run that Close stopped was logged: %q", got)
	}
}

// counted is the one value query returns, as text.
func counted(t *testing.T, ix *index.Index, query string) string {
	t.Helper()
	var s string
	if err := ix.DB().QueryRow(query).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// check reports each of want that is not a line of the scrape got.
func check(t *testing.T, got, when string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, "\n"+w+"\n") {
			t.Errorf("%s: no line %q in:\n%s", when, w, got)
		}
	}
}
