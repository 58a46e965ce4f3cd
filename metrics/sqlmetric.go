package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/prometheus/client_golang/prometheus"
)

// The metrics about the SQL-defined metrics, one series per metric.
var (
	metricDropped = prometheus.NewDesc("mqsql_metric_series_dropped",
		"Rows of an SQL-defined metric's last run beyond its series_limit, left out of the scrape.", []string{"metric"}, nil)
	metricErrors = prometheus.NewDesc("mqsql_metric_errors_total",
		"Runs of an SQL-defined metric's query that failed or timed out; the metric is then missing from that scrape.", []string{"metric"}, nil)
	metricDuration = prometheus.NewDesc("mqsql_metric_duration_seconds",
		"How long the last run of an SQL-defined metric's query took.", []string{"metric"}, nil)
)

// SQLCollector runs the SQL-defined metrics: at scrape time, each on its own guarded
// connection and all at once, so that a slow query costs its own timeout and delays no other
// metric; or, for a metric with an interval, in a background loop (Start) whose last result a
// scrape serves without running anything.
type SQLCollector struct {
	metrics []*sqlMetric
	ticker  Ticker
	stop    context.CancelFunc // ends the loops Start began; nil before
	loops   sync.WaitGroup
}

// Ticker makes the ticks of an interval metric's loop: a channel that receives a value every d
// and a function that stops it. The default is time.NewTicker's; tests pass their own.
type Ticker func(d time.Duration) (ticks <-chan time.Time, stop func())

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// SQLOption configures NewSQLCollector.
type SQLOption func(*SQLCollector)

// WithTicker makes the interval metrics' loops tick by t instead of the wall clock.
func WithTicker(t Ticker) SQLOption {
	return func(c *SQLCollector) { c.ticker = t }
}

// NewSQLCollector checks defs against ix and returns their collector. A query that is not
// one read-only SELECT, does not prepare, or whose columns cannot be labels is refused with a
// *DefinitionError naming its line. Its queries run under ctx; logf hears about failures and
// dropped series. Start begins the interval metrics' loops; Close ends them and releases the
// connections.
func NewSQLCollector(ctx context.Context, ix *index.Index, defs []Definition, logf func(string, ...any), opts ...SQLOption) (*SQLCollector, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	c := &SQLCollector{ticker: realTicker}
	for _, o := range opts {
		o(c)
	}
	for _, d := range defs {
		m, err := newSQLMetric(ctx, ix, d, logf)
		if err != nil {
			c.Close()
			return nil, &DefinitionError{File: d.File, Line: d.Line, Reason: fmt.Sprintf("metric %s: %v", d.Name, err)}
		}
		c.metrics = append(c.metrics, m)
	}
	return c, nil
}

// Start runs each metric that has an interval once now and then every interval, until ctx
// ends or Close; until its first run ends, a scrape has no series of it. Call it once, when
// the index is loaded.
func (c *SQLCollector) Start(ctx context.Context) {
	ctx, c.stop = context.WithCancel(ctx)
	for _, m := range c.metrics {
		if m.def.Interval > 0 {
			c.loops.Go(func() {
				defer recovered(m.failed)
				m.loop(ctx, c.ticker)
			})
		}
	}
}

// Close ends the interval loops and releases the metrics' connections.
func (c *SQLCollector) Close() {
	if c.stop != nil {
		c.stop()
	}
	c.loops.Wait()
	for _, m := range c.metrics {
		m.runMu.Lock()
		if m.sess != nil {
			m.sess.close()
			m.sess = nil
		}
		m.runMu.Unlock()
	}
}

// Describe sends the descriptors of the defined metrics and of the metrics about them.
func (c *SQLCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
	if len(c.metrics) > 0 {
		ch <- metricDropped
		ch <- metricErrors
		ch <- metricDuration
	}
}

// Collect sends every defined metric: those with an interval as their last run left them,
// the others by running their queries, in parallel.
func (c *SQLCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, m := range c.metrics {
		if m.def.Interval > 0 {
			m.sendLast(ch)
			continue
		}
		wg.Go(func() {
			defer recovered(m.failed)
			m.send(ch, m.refresh(m.ctx))
		})
	}
	wg.Wait()
}

// sqlMetric is one SQL-defined metric.
type sqlMetric struct {
	def       Definition
	ctx       context.Context
	ix        *index.Index
	desc      *prometheus.Desc
	valueType prometheus.ValueType
	logf      func(string, ...any)
	errors    atomic.Int64

	// runMu is held while the query runs: one run at a time per metric. It guards sess and
	// lastErr.
	runMu   sync.Mutex
	sess    *session // nil after a failed run: the next run opens a new one
	lastErr string

	// mu guards the last run's result, which a scrape of an interval metric serves; ran is
	// signalled after each run.
	mu   sync.Mutex
	ran  *sync.Cond
	last result
	runs int64
}

// result is what one run of a metric's query left for the scrapes.
type result struct {
	series  []prometheus.Metric // nil after a failed run (and before the first)
	dropped int64               // rows beyond the series limit, as of the last run that worked
	took    time.Duration
}

func newSQLMetric(ctx context.Context, ix *index.Index, d Definition, logf func(string, ...any)) (*sqlMetric, error) {
	check, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	s, err := openSession(check, ix, d.Query)
	if err != nil {
		return nil, err
	}
	cols, err := s.columns(check, d.Query)
	if err == nil {
		var labels []string
		if labels, err = labelNames(cols); err == nil {
			vt := prometheus.GaugeValue
			if d.Type == "counter" {
				vt = prometheus.CounterValue
			}
			desc := prometheus.NewDesc(d.Name, validUTF8(d.Help), labels, nil)
			m := &sqlMetric{def: d, ctx: ctx, ix: ix, desc: desc, valueType: vt, logf: logf, sess: s}
			m.ran = sync.NewCond(&m.mu)
			return m, nil
		}
	}
	s.close()
	return nil, err
}

// loop runs the query now and at every tick until ctx ends.
func (m *sqlMetric) loop(ctx context.Context, ticker Ticker) {
	ticks, stop := ticker(m.def.Interval)
	defer stop()
	for {
		m.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}

// refresh runs the query once, within the metric's timeout, and keeps its result as the last.
func (m *sqlMetric) refresh(parent context.Context) result {
	ctx, cancel := context.WithTimeout(parent, m.def.Timeout)
	defer cancel()
	m.runMu.Lock()
	defer m.runMu.Unlock()
	start := time.Now()
	series, dropped, err := m.safeRun(ctx)
	r := result{took: time.Since(start), dropped: m.lastResult().dropped}
	if parent.Err() != nil {
		return r // mqsql is stopping: neither an error of the query nor a result
	}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("the query was stopped at its timeout of %v", m.def.Timeout)
	}
	if err != nil {
		m.fail(err)
	} else {
		m.lastErr = ""
		m.noteDropped(r.dropped, dropped)
		r.series, r.dropped = series, dropped
	}
	m.mu.Lock()
	m.last = r
	m.runs++
	m.ran.Broadcast()
	m.mu.Unlock()
	return r
}

// lastResult is the result of the last run.
func (m *sqlMetric) lastResult() result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// send sends a run's series and the metrics about the metric.
func (m *sqlMetric) send(ch chan<- prometheus.Metric, r result) {
	for _, s := range r.series {
		ch <- s
	}
	name := m.def.Name
	sendConst(ch, m.failed, metricDropped, prometheus.GaugeValue, float64(r.dropped), name)
	sendConst(ch, m.failed, metricErrors, prometheus.CounterValue, float64(m.errors.Load()), name)
	sendConst(ch, m.failed, metricDuration, prometheus.GaugeValue, r.took.Seconds(), name)
}

// sendLast sends the last run's series, for a metric with an interval.
func (m *sqlMetric) sendLast(ch chan<- prometheus.Metric) {
	defer recovered(m.failed)
	m.send(ch, m.lastResult())
}

// failed counts and logs a failure outside a run of the query (a panic recovered, a series
// the client refused); the run's own failures go through fail.
func (m *sqlMetric) failed(err error) {
	m.errors.Add(1)
	m.logf("metric %s (%s:%d): %v", m.def.Name, m.def.File, m.def.Line, err)
}

// safeRun is run, with a panic turned into the run's error.
func (m *sqlMetric) safeRun(ctx context.Context) (series []prometheus.Metric, dropped int64, err error) {
	defer recovered(func(perr error) { series, dropped, err = nil, 0, perr })
	return m.run(ctx)
}

// fail counts a failed run, logs it when the error is new, and drops the session.
func (m *sqlMetric) fail(err error) {
	m.errors.Add(1)
	if msg := err.Error(); msg != m.lastErr {
		m.logf("metric %s (%s:%d): %s", m.def.Name, m.def.File, m.def.Line, msg)
		m.lastErr = msg
	}
	if m.sess != nil {
		m.sess.close()
		m.sess = nil
	}
}

// noteDropped says so when the series limit starts to cut rows (before was the last count).
func (m *sqlMetric) noteDropped(before, n int64) {
	if n > 0 && before == 0 {
		m.logf("metric %s (%s:%d): the query returned more than series_limit %d rows; %d left out",
			m.def.Name, m.def.File, m.def.Line, m.def.SeriesLimit, n)
	}
}

// run runs the query and turns its rows into at most SeriesLimit series; it returns how many
// rows were left out beyond that. A row whose value is NULL is no series.
func (m *sqlMetric) run(ctx context.Context) ([]prometheus.Metric, int64, error) {
	if m.sess == nil {
		s, err := openSession(ctx, m.ix, m.def.Query)
		if err != nil {
			return nil, 0, err
		}
		m.sess = s
	}
	rows, err := m.sess.stmt.Query(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	series, dropped, err := m.scan(rows)
	if err == nil {
		err = rows.Err()
	}
	if err == nil {
		err = ctx.Err()
	}
	return series, dropped, err
}

// scan reads the rows: the label values, then the value.
func (m *sqlMetric) scan(rows *sql.Rows) ([]prometheus.Metric, int64, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, 0, err
	}
	labels := make([]sql.NullString, len(cols)-1)
	var value sql.NullFloat64
	dest := make([]any, 0, len(cols))
	for i := range labels {
		dest = append(dest, &labels[i])
	}
	dest = append(dest, &value)
	var out []prometheus.Metric
	var dropped int64
	seen := map[string]bool{}
	for rows.Next() {
		if len(out) >= m.def.SeriesLimit {
			dropped++
			continue
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, fmt.Errorf("read a row: %w", err)
		}
		if !value.Valid {
			continue
		}
		lv := make([]string, len(labels))
		for i, l := range labels {
			lv[i] = validUTF8(l.String)
		}
		key := fmt.Sprintf("%q", lv)
		if seen[key] {
			return nil, 0, fmt.Errorf("the query returned the labels %q twice; each row must be a different series", lv)
		}
		seen[key] = true
		s, err := prometheus.NewConstMetric(m.desc, m.valueType, value.Float64, lv...)
		if err != nil {
			return nil, 0, fmt.Errorf("the row labelled %q: %w", lv, err)
		}
		out = append(out, s)
	}
	return out, dropped, nil
}
