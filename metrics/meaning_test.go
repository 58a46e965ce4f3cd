package metrics_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/metrics"
)

// queueLabel finds the queue label of the per-queue series.
var queueLabel = regexp.MustCompile(`(?m)^mqsql_queue_messages\{queue="([^"]+)"\} (\S+)$`)

// TestQueuesAreTheDriversOnEveryMTA scrapes the built-in metrics of each MTA's sample spool:
// mqsql_queue_messages has one series per queue the driver declares, in no other queue (no
// maildrop on Exim or Sendmail's MTA queue), and its values add up to the messages indexed.
func TestQueuesAreTheDriversOnEveryMTA(t *testing.T) {
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			sp := s.OpenCopy(t)
			ix := testindex.Memory(t, sp)
			if err := ix.KeepRunningTotals(t.Context()); err != nil {
				t.Fatal(err)
			}
			out := scrape(t, metrics.NewCollector(context.Background(), ix, metrics.Options{}))
			var got, want []string
			total := 0.0
			for _, m := range queueLabel.FindAllStringSubmatch(out, -1) {
				got = append(got, m[1])
				var v float64
				fmt.Sscan(m[2], &v)
				total += v
			}
			for _, q := range sp.Meaning().QueueNames() {
				want = append(want, string(q))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("mqsql_queue_messages for queues %v, the driver has %v", got, want)
			}
			var rows float64
			if err := ix.DB().QueryRow(`SELECT count(*) FROM queue_files`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if total != rows || rows == 0 {
				t.Errorf("mqsql_queue_messages adds up to %v, the index has %v messages", total, rows)
			}
		})
	}
}
