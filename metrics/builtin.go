package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	// DefaultTopDomains is how many recipient domains mqsql_deferred_recipients names.
	DefaultTopDomains = 20
	// DefaultTimeout bounds the built-in queries of one scrape.
	DefaultTimeout = 10 * time.Second
)

// StateSource is what keeps the index current (an *index.Watcher): its state gives the
// watcher's counters. A Collector without one reports the index alone.
type StateSource interface {
	State() index.WatchState
}

// Options configures a Collector; the zero value uses the defaults.
type Options struct {
	// TopDomains is how many destination domains of deferred mail get their own series; the
	// rest are summed into domain="other".
	TopDomains int
	// Watcher, when set, supplies the watcher's overflow and reconcile figures.
	Watcher StateSource
	// Timeout bounds the built-in queries of one scrape.
	Timeout time.Duration
	// Logf, when set, hears why a scrape's queries failed.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.TopDomains <= 0 {
		o.TopDomains = DefaultTopDomains
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Collector is the built-in metric set of an index, a prometheus.Collector. Every scrape reads
// the index in one read transaction, so the figures of one scrape agree with each other, and
// takes ages from the index's clock (Index.Now), as now() and the qshape views do.
type Collector struct {
	ctx context.Context
	ix  *index.Index
	opt Options
}

// NewCollector returns the built-in metrics of ix. Its queries run under ctx (cancelled when
// the program stops) and the Timeout.
func NewCollector(ctx context.Context, ix *index.Index, opt Options) *Collector {
	return &Collector{ctx: ctx, ix: ix, opt: opt.withDefaults()}
}

// Describe sends the descriptors of every built-in metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range builtinDescs {
		ch <- d
	}
}

// Collect reads the index and sends the built-in metrics. When the index cannot be read,
// mqsql_index_up is 0 and the queue metrics are missing from this scrape; while the watcher's
// last pass could not read part of the spool, mqsql_index_up is 0 too.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	defer recovered(c.failed)
	ctx, cancel := context.WithTimeout(c.ctx, c.opt.Timeout)
	defer cancel()
	snap, err := c.read(ctx)
	up := 1.0
	if err != nil {
		up = 0
		c.opt.Logf("metrics: %v", err)
	} else {
		snap.send(ch, c.failed)
	}
	if c.opt.Watcher != nil && c.opt.Watcher.State().Stale != "" {
		up = 0 // what the index says of the places it could not read may be out of date
	}
	ch <- prometheus.MustNewConstMetric(indexUp, prometheus.GaugeValue, up)
	c.sendEvents(ch)
	if c.opt.Watcher != nil {
		sendWatcher(ch, c.opt.Watcher.State())
	}
}

// snapshot is what one scrape read from the index.
type snapshot struct {
	queues     []queueStats
	domains    []domainCount
	lastChange time.Time
}

// failed logs a series the client refused or a panic recovered: the built-in metrics of this
// scrape are then incomplete, and the watcher goes on.
func (c *Collector) failed(err error) {
	c.opt.Logf("metrics: %v", err)
}

// send sends the snapshot's metrics; fail hears about a series the client refuses.
func (s *snapshot) send(ch chan<- prometheus.Metric, fail func(error)) {
	for _, q := range s.queues {
		q.send(ch)
	}
	for _, d := range s.domains {
		// The domain is mail data: any byte a sender or a remote server chose.
		sendConst(ch, fail, deferredRecipients, prometheus.GaugeValue, float64(d.recipients), d.domain)
	}
	ch <- prometheus.MustNewConstMetric(indexLastChange, prometheus.GaugeValue, timestamp(s.lastChange))
}

// read runs the scrape's queries in one read transaction. ReadOnly makes it a deferred BEGIN,
// not the BEGIN IMMEDIATE of an index file's connections, so that a scrape never takes the
// write lock from the watcher, nor waits for it.
func (c *Collector) read(ctx context.Context) (*snapshot, error) {
	tx, err := c.ix.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer tx.Rollback()
	s := &snapshot{}
	if s.queues, err = readQueues(ctx, tx, c.ix.Now()); err != nil {
		return nil, err
	}
	if s.domains, err = readDeferredDomains(ctx, tx, c.opt.TopDomains); err != nil {
		return nil, err
	}
	if s.lastChange, err = readLastChange(ctx, tx); err != nil {
		return nil, err
	}
	if c.opt.Watcher != nil {
		if t := c.opt.Watcher.State().LastChange; t.After(s.lastChange) {
			s.lastChange = t
		}
	}
	return s, nil
}

// timestamp is t in unix seconds, 0 for the zero time (never).
func timestamp(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMicro()) / 1e6
}
