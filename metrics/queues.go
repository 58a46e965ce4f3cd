package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/prometheus/client_golang/prometheus"
)

// AgeBuckets are the upper bounds, in seconds, of mqsql_queue_message_age_seconds: qshape's
// default buckets, 5 minutes doubling to 1280 minutes (the +Inf bucket holds what qshape
// calls 1280+). A message counts in a bucket when its age is at most the bound, as Prometheus
// defines buckets (qshape puts an age of exactly 5 minutes in its next column).
var AgeBuckets = []float64{300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 76800}

// queueStats are the figures of one queue.
type queueStats struct {
	queue      mqsql.Queue
	messages   uint64
	recipients int64
	bytes      int64
	oldest     int64 // unix seconds; not sent when the queue is empty
	ageSum     float64
	buckets    map[float64]uint64 // cumulative, by AgeBuckets bound
}

func (q queueStats) send(ch chan<- prometheus.Metric) {
	l := string(q.queue)
	ch <- prometheus.MustNewConstMetric(queueMessages, prometheus.GaugeValue, float64(q.messages), l)
	ch <- prometheus.MustNewConstMetric(queueRecipients, prometheus.GaugeValue, float64(q.recipients), l)
	ch <- prometheus.MustNewConstMetric(queueSize, prometheus.GaugeValue, float64(q.bytes), l)
	if q.messages > 0 { // an empty queue has no oldest message: no series, never 0 (1970)
		ch <- prometheus.MustNewConstMetric(queueOldest, prometheus.GaugeValue, float64(q.oldest), l)
	}
	ch <- prometheus.MustNewConstHistogram(queueAge, q.messages, q.ageSum, q.buckets, l)
}

// queueQuery reads every queue's figures from the index's running totals, never from the
// rows, so that a scrape costs the same on a queue of any size. Per queue it reads one row of
// queue_totals; the oldest arrival, one lookup in queue_arrivals; the age buckets, the whole
// minutes of the last 1280 minutes in queue_arrival_minutes (at most 1,281 rows) and, for each
// bucket bound, the seconds of the one minute the bound falls in (at most 60 rows each, 540 in
// all); and mail dated after the present, whose age counts as 0 as in qshape, its arrival
// seconds (none unless the clock went back). Parameters: ?1 is the present in unix seconds,
// ?2 + i the minute that AgeBuckets[i] before the present falls in (queueArgs).
//
// A message of age at most le arrived at or after now - le: in a minute after that bound's
// minute, or in the bound's minute at or after now - le. The minutes after the minute of the
// largest bound are thus enough for every bucket.
var queueQuery = func() string {
	var b strings.Builder
	b.WriteString("WITH minutes AS (\n\tSELECT queue")
	for i := range AgeBuckets {
		fmt.Fprintf(&b, ",\n\t\tsum(messages) FILTER (WHERE arrival_minute > ?%d) AS b%d", i+2, i)
	}
	fmt.Fprintf(&b, "\n\tFROM queue_arrival_minutes WHERE queue IN (SELECT queue FROM queue_totals) AND arrival_minute > ?%d GROUP BY queue)", len(AgeBuckets)+1)
	b.WriteString(`
SELECT t.queue, t.messages, t.recipients, t.bytes,
	coalesce((SELECT a.arrival_time FROM queue_arrivals a WHERE a.queue = t.queue ORDER BY a.arrival_time LIMIT 1), 0),
	t.messages * ?1 - t.arrival_sum + coalesce((SELECT sum((a.arrival_time - ?1) * a.messages) FROM queue_arrivals a
		WHERE a.queue = t.queue AND a.arrival_time > ?1), 0)`)
	for i, le := range AgeBuckets {
		fmt.Fprintf(&b, ",\n\tcoalesce(m.b%d, 0) + coalesce((SELECT sum(a.messages) FROM queue_arrivals a\n\t\tWHERE a.queue = t.queue AND a.arrival_time >= ?1 - %d AND a.arrival_time < (?%d + 1) * 60), 0)", i, int64(le), i+2)
	}
	b.WriteString("\nFROM queue_totals t LEFT JOIN minutes m USING (queue) WHERE t.messages > 0")
	return b.String()
}()

// queueArgs are queueQuery's parameters at now.
func queueArgs(now int64) []any {
	args := []any{now}
	for _, le := range AgeBuckets {
		args = append(args, floorDiv(now-int64(le), 60))
	}
	return args
}

// floorDiv is x / d rounded down, as queue_arrival_minutes numbers minutes (also before 1970).
func floorDiv(x, d int64) int64 {
	q := x / d
	if x%d < 0 {
		q--
	}
	return q
}

// readQueues returns the figures of every queue of the MTA the index mirrors (its queues
// table, which the driver fills), in its listing's order, an empty queue with zeros, then any
// other queue a row is in.
func readQueues(ctx context.Context, tx *sql.Tx, now time.Time) ([]queueStats, error) {
	names, err := queueNames(ctx, tx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, queueQuery, queueArgs(now.Unix())...)
	if err != nil {
		return nil, fmt.Errorf("count queues: %w", err)
	}
	defer rows.Close()
	found := map[mqsql.Queue]queueStats{}
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, fmt.Errorf("count queues: %w", err)
		}
		found[q.queue] = q
		if !slices.Contains(names, q.queue) {
			names = append(names, q.queue)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count queues: %w", err)
	}
	out := make([]queueStats, 0, len(names))
	for _, name := range names {
		q, ok := found[name]
		if !ok {
			q = queueStats{queue: name, buckets: map[float64]uint64{}}
			for _, le := range AgeBuckets {
				q.buckets[le] = 0
			}
		}
		out = append(out, q)
	}
	return out, nil
}

// queueNames are the driver's queues, in its listing's order.
func queueNames(ctx context.Context, tx *sql.Tx) ([]mqsql.Queue, error) {
	rows, err := tx.QueryContext(ctx, `SELECT queue FROM queues ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("read the queues: %w", err)
	}
	defer rows.Close()
	var names []mqsql.Queue
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return nil, fmt.Errorf("read the queues: %w", err)
		}
		names = append(names, mqsql.Queue(q))
	}
	return names, rows.Err()
}

func scanQueue(rows *sql.Rows) (queueStats, error) {
	var q queueStats
	counts := make([]int64, len(AgeBuckets))
	dest := []any{&q.queue, &q.messages, &q.recipients, &q.bytes, &q.oldest, &q.ageSum}
	for i := range counts {
		dest = append(dest, &counts[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return q, err
	}
	q.buckets = make(map[float64]uint64, len(AgeBuckets))
	for i, le := range AgeBuckets {
		q.buckets[le] = uint64(counts[i])
	}
	return q, nil
}
