package metrics

import (
	"context"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/index"
)

// TestScrapeQueriesSearchIndexes checks the plans of the built-in queries that read the
// running totals: every read of queue_arrivals, queue_arrival_minutes and deferred_domains is
// a search of an index range, and the top domains come in the index's order (no sort of every
// domain), so that what a scrape reads is bounded by the buckets and the top N, not by the
// queue.
func TestScrapeQueriesSearchIndexes(t *testing.T) {
	ctx := context.Background()
	ix, err := index.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, q := range []struct {
		query string
		args  []any
		want  []string
	}{
		{queueQuery, queueArgs(1795865417), []string{
			"SEARCH queue_arrival_minutes USING PRIMARY KEY (queue=? AND arrival_minute>?)",
			"SEARCH a USING PRIMARY KEY (queue=? AND arrival_time>? AND arrival_time<?)",
		}},
		{deferredDomainsQuery, []any{21}, []string{"SEARCH deferred_domains USING COVERING INDEX deferred_domains_top (recipients>?)"}},
	} {
		plan := queryPlan(t, ix, q.query, q.args)
		for _, w := range q.want {
			if !strings.Contains(plan, w) {
				t.Errorf("plan has no %q:\n%s", w, plan)
			}
		}
		for _, line := range strings.Split(plan, "\n") {
			if strings.Contains(line, "TEMP B-TREE") || strings.Contains(line, "SCAN") && !strings.Contains(line, "SCAN t") {
				t.Errorf("plan reads more than index ranges: %q in\n%s", line, plan)
			}
		}
	}
}

// queryPlan is EXPLAIN QUERY PLAN of query, one step a line.
func queryPlan(t *testing.T, ix *index.Index, query string, args []any) string {
	t.Helper()
	rows, err := ix.DB().Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
