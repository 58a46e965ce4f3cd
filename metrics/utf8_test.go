package metrics_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// TestInvalidUTF8 puts a byte 0xff where mail data reaches a label (a sender, a delay reason,
// a deferred recipient domain) and scrapes the built-in metrics and the shipped example's,
// at scrape time and from an interval loop: no goroutine panics, the byte is shown as \xff,
// and the rest of the scrape is there.
func TestInvalidUTF8(t *testing.T) {
	ix := sampleIndex(t)
	for _, q := range []string{
		`UPDATE queue_files SET sender = CAST(X'ff40782e74657374' AS TEXT) WHERE sender <> ''`,
		`UPDATE queue_recipients SET delay_reason = CAST(X'34353120ff2074727920616761696e' AS TEXT) WHERE delay_reason IS NOT NULL`,
		`UPDATE deferred_domains SET domain = CAST(X'ff2e74657374' AS TEXT) WHERE domain = (SELECT domain FROM deferred_domains ORDER BY recipients DESC LIMIT 1)`,
	} {
		if _, err := ix.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	example, err := os.ReadFile("../docs/metrics.example")
	if err != nil {
		t.Fatal(err)
	}
	defs := string(example) + "\nname: test_senders\nhelp: Senders \xff.\ntype: gauge\nquery: SELECT coalesce(sender, '(unreadable)') AS sender, count(*) FROM messages GROUP BY 1\n"
	var l logs
	var f fakeTicker
	c := metrics.NewCollector(context.Background(), ix, metrics.Options{TopDomains: 3, Logf: l.logf})
	sc := intervalCollector(t, ix, defs, &f, &l)
	sc.Start(context.Background())
	metrics.WaitForRuns(sc, "mqsql_delayed_messages_by_reason", 1)
	got := scrape(t, c, sc)
	for _, want := range []string{
		`test_senders{sender="\\xff@x.test"}`,
		`mqsql_delayed_messages_by_reason{reason="451 \\xff try again"}`,
		`mqsql_deferred_recipients{domain="\\xff.test"}`,
		`# HELP test_senders Senders \\xff.`,
		`mqsql_metric_errors_total{metric="test_senders"} 0`,
		`mqsql_metric_errors_total{metric="mqsql_delayed_messages_by_reason"} 0`,
		"mqsql_index_up 1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s:\n%s", want, got)
		}
	}
	if l.String() != "" {
		t.Errorf("logged:\n%s", l.String())
	}
}

// TestMetricPanics makes a scrape-time metric and an interval metric panic in their
// goroutines: the process goes on, each failure is counted in mqsql_metric_errors_total and
// logged, and the other metrics are scraped.
func TestMetricPanics(t *testing.T) {
	ix := sampleIndex(t)
	defs := "name: test_now\nhelp: Senders.\ntype: gauge\nquery: SELECT sender, count(*) FROM messages GROUP BY sender\n\n" +
		"name: test_later\nhelp: Queues.\ntype: gauge\ninterval: 1m\nquery: SELECT queue, count(*) FROM messages GROUP BY queue\n\n" +
		"name: test_fine\nhelp: All.\ntype: gauge\nquery: SELECT count(*) FROM messages\n"
	var l logs
	var f fakeTicker
	sc := intervalCollector(t, ix, defs, &f, &l)
	metrics.BreakDesc(sc, "test_now")
	metrics.BreakDesc(sc, "test_later")
	sc.Start(context.Background())
	metrics.WaitForRuns(sc, "test_later", 1)
	got := scrape(t, unchecked{sc}) // a nil descriptor cannot be described
	for _, want := range []string{
		`mqsql_metric_errors_total{metric="test_now"} 1`,
		`mqsql_metric_errors_total{metric="test_later"} 1`,
		`mqsql_metric_errors_total{metric="test_fine"} 0`,
		"\ntest_fine 18",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s:\n%s", want, got)
		}
	}
	if !strings.Contains(l.String(), "metric test_now (test.metrics:1): panic:") || !strings.Contains(l.String(), "metric test_later (test.metrics:6): panic:") {
		t.Errorf("log:\n%s", l.String())
	}
}

// unchecked is a collector that describes nothing, which the registry then does not check.
type unchecked struct{ prometheus.Collector }

func (unchecked) Describe(chan<- *prometheus.Desc) {}
