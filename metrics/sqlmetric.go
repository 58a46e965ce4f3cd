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

// SQLCollector runs the SQL-defined metrics at scrape time, each on its own guarded connection
// and all at once, so that a slow query costs its own timeout and delays no other metric.
type SQLCollector struct {
	metrics []*sqlMetric
}

// NewSQLCollector checks defs against ix and returns their collector. A query that is not
// one read-only SELECT, does not prepare, or whose columns cannot be labels is refused with a
// *DefinitionError naming its line. Its queries run under ctx; logf hears about failures and
// dropped series. Close releases the connections.
func NewSQLCollector(ctx context.Context, ix *index.Index, defs []Definition, logf func(string, ...any)) (*SQLCollector, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	c := &SQLCollector{}
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

// Close releases the metrics' connections.
func (c *SQLCollector) Close() {
	for _, m := range c.metrics {
		m.mu.Lock()
		if m.sess != nil {
			m.sess.close()
			m.sess = nil
		}
		m.mu.Unlock()
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

// Collect runs every defined metric's query in parallel and sends what each returned.
func (c *SQLCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, m := range c.metrics {
		wg.Go(func() { m.collect(ch) })
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

	// mu is held while the query runs: one run at a time per metric. It guards the rest.
	mu          sync.Mutex
	sess        *session // nil after a failed run: the next run opens a new one
	lastDropped int64
	lastErr     string
	took        time.Duration
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
			desc := prometheus.NewDesc(d.Name, d.Help, labels, nil)
			return &sqlMetric{def: d, ctx: ctx, ix: ix, desc: desc, valueType: vt, logf: logf, sess: s}, nil
		}
	}
	s.close()
	return nil, err
}

// collect runs the query once, within the metric's timeout, and sends its series.
func (m *sqlMetric) collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(m.ctx, m.def.Timeout)
	defer cancel()
	m.mu.Lock()
	defer m.mu.Unlock()
	start := time.Now()
	series, dropped, err := m.run(ctx)
	m.took = time.Since(start)
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("the query was stopped at its timeout of %v", m.def.Timeout)
	}
	if err != nil {
		m.fail(err)
	} else {
		m.lastErr = ""
		for _, s := range series {
			ch <- s
		}
		m.noteDropped(dropped)
	}
	name := m.def.Name
	ch <- prometheus.MustNewConstMetric(metricDropped, prometheus.GaugeValue, float64(m.lastDropped), name)
	ch <- prometheus.MustNewConstMetric(metricErrors, prometheus.CounterValue, float64(m.errors.Load()), name)
	ch <- prometheus.MustNewConstMetric(metricDuration, prometheus.GaugeValue, m.took.Seconds(), name)
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

// noteDropped records how many rows the series limit cut, and says so when it starts to.
func (m *sqlMetric) noteDropped(n int64) {
	if n > 0 && m.lastDropped == 0 {
		m.logf("metric %s (%s:%d): the query returned more than series_limit %d rows; %d left out",
			m.def.Name, m.def.File, m.def.Line, m.def.SeriesLimit, n)
	}
	m.lastDropped = n
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
			lv[i] = l.String
		}
		key := fmt.Sprintf("%q", lv)
		if seen[key] {
			return nil, 0, fmt.Errorf("the query returned the labels %v twice; each row must be a different series", lv)
		}
		seen[key] = true
		out = append(out, prometheus.MustNewConstMetric(m.desc, m.valueType, value.Float64, lv...))
	}
	return out, dropped, nil
}
