package metrics_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/metrics"
)

var sprintf = fmt.Sprintf

// TestGolden is the /metrics page of the sample spool: the built-in metrics and those of the
// shipped example file (docs/metrics.example), at goldenTime.
func TestGolden(t *testing.T) {
	ix := sampleIndex(t)
	example, err := os.ReadFile("../docs/metrics.example")
	if err != nil {
		t.Fatal(err)
	}
	var l logs
	var f fakeTicker
	c := metrics.NewCollector(context.Background(), ix, metrics.Options{TopDomains: 3, Watcher: sampleWatcher, Logf: l.logf})
	sc := intervalCollector(t, ix, string(example), &f, &l)
	sc.Start(context.Background())
	metrics.WaitForRuns(sc, "mqsql_delayed_messages_by_reason", 1) // the example's interval metric
	got := scrape(t, c, sc)
	// How long a query took differs from run to run.
	got = without(got, "mqsql_metric_duration_seconds")
	golden.Check(t, "sample.metrics", []byte(got))
	if l.String() != "" {
		t.Errorf("logged:\n%s", l.String())
	}
}

// TestIndexDown checks that a scrape of an index that cannot be read says so in
// mqsql_index_up and leaves out the queue metrics rather than reporting empty queues.
func TestIndexDown(t *testing.T) {
	ix := sampleIndex(t)
	ix.Close()
	var l logs
	got := scrape(t, metrics.NewCollector(context.Background(), ix, metrics.Options{Logf: l.logf}))
	if !strings.Contains(got, "\nmqsql_index_up 0\n") || strings.Contains(got, "mqsql_queue_messages") {
		t.Errorf("scrape of a closed index:\n%s", got)
	}
	if !strings.Contains(l.String(), "read index") {
		t.Errorf("log says %q, want why the index could not be read", l.String())
	}
}

// TestScrapeDuringWrite checks that a scrape of an index file answers while the watcher holds
// the write lock: it reads a snapshot and never waits for the writer.
func TestScrapeDuringWrite(t *testing.T) {
	ix := fileIndex(t)
	tx, err := ix.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM events`); err != nil {
		t.Fatal(err)
	}
	var l logs
	got := scrape(t, metrics.NewCollector(context.Background(), ix, metrics.Options{Timeout: 2 * time.Second, Logf: l.logf}))
	if !strings.Contains(got, "\nmqsql_index_up 1\n") || !strings.Contains(got, `mqsql_queue_messages{queue="deferred"} 15`) {
		t.Errorf("scrape while a write is in progress (log %q):\n%s", l.String(), got)
	}
}

// TestEmptyQueueHasNoOldest checks that a queue without mail has no oldest-arrival series
// (rather than 0, the year 1970, which every alert would have to guard against), while each
// queue with mail has one.
func TestEmptyQueueHasNoOldest(t *testing.T) {
	got := scrape(t, metrics.NewCollector(context.Background(), sampleIndex(t), metrics.Options{}))
	empty := 0
	for _, q := range []string{"active", "corrupt", "deferred", "hold", "incoming", "maildrop"} {
		isEmpty := strings.Contains(got, sprintf("\nmqsql_queue_messages{queue=%q} 0\n", q))
		hasOldest := strings.Contains(got, sprintf("\nmqsql_queue_oldest_arrival_timestamp_seconds{queue=%q} ", q))
		if isEmpty {
			empty++
		}
		if hasOldest == isEmpty {
			t.Errorf("queue %s: empty %v, oldest-arrival series %v", q, isEmpty, hasOldest)
		}
	}
	if empty == 0 {
		t.Fatal("the sample has no empty queue: the test checks nothing")
	}
}
