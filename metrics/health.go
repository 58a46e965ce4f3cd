package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/prometheus/client_golang/prometheus"
)

// eventKinds are the event label values of mqsql_events_total, all present from the start.
var eventKinds = []string{index.EventArrived, index.EventMoved, index.EventLeft, index.EventChanged}

func (c *Collector) sendEvents(ch chan<- prometheus.Metric) {
	counts := c.ix.EventCounts()
	for _, k := range eventKinds {
		ch <- prometheus.MustNewConstMetric(eventsTotal, prometheus.CounterValue, float64(counts[k]), k)
	}
}

// sendWatcher sends the watcher's health from its state.
func sendWatcher(ch chan<- prometheus.Metric, st index.WatchState) {
	last := st.LastRescan
	if last.IsZero() {
		last = st.Started
	}
	interval := st.Reconcile
	if st.Mode == "poll" && st.Poll > 0 && st.Poll < interval {
		interval = st.Poll
	}
	ch <- prometheus.MustNewConstMetric(indexUnreadable, prometheus.CounterValue, float64(st.Unreadable))
	ch <- prometheus.MustNewConstMetric(watcherOverflows, prometheus.CounterValue, float64(st.Overflows))
	ch <- prometheus.MustNewConstMetric(watcherReconciles, prometheus.CounterValue, float64(st.Rescans))
	ch <- prometheus.MustNewConstMetric(watcherReconcileDuration, prometheus.GaugeValue, st.LastRescanTook.Seconds())
	ch <- prometheus.MustNewConstMetric(watcherLastReconcile, prometheus.GaugeValue, timestamp(last))
	ch <- prometheus.MustNewConstMetric(watcherReconcileInterval, prometheus.GaugeValue, interval.Seconds())
}

// readLastChange is the time of the newest events row, zero when there is none.
func readLastChange(ctx context.Context, tx *sql.Tx) (time.Time, error) {
	var last sql.NullFloat64
	if err := tx.QueryRowContext(ctx, `SELECT max(time) FROM events`).Scan(&last); err != nil {
		return time.Time{}, fmt.Errorf("read events: %w", err)
	}
	if !last.Valid {
		return time.Time{}, nil
	}
	return time.UnixMicro(int64(last.Float64 * 1e6)), nil
}
