package metrics_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// TestAgesEqualRows checks that the age histogram, its sum and the oldest arrival that a
// scrape reads from the running totals (whole minutes, and seconds only near each bucket
// bound) equal what the rows themselves say at the scrape's present, each message counted on
// its own. The presents put each bucket bound on, just
// before and just after arrival seconds and minute boundaries, before 1970 (negative minutes)
// and before mail dated in the future.
func TestAgesEqualRows(t *testing.T) {
	var now time.Time
	sp := testspool.Open(t, testspool.Copy(t, testspool.Dir(t, "spool")))
	ix := testindex.Memory(t, sp, index.WithClock(func() time.Time { return now }))
	if err := ix.KeepRunningTotals(t.Context()); err != nil {
		t.Fatal(err)
	}
	messages := insertArrivals(t, ix)
	rows := queueArrivals(t, ix)
	var l logs
	c := metrics.NewCollector(context.Background(), ix, metrics.Options{Logf: l.logf})
	presents := agePresents()
	for _, p := range presents {
		now = time.Unix(p, 0)
		got, want := scrapedAges(t, c), rowAges(rows, p)
		if len(want) == 0 {
			t.Fatal("no queue has mail: the test proves nothing")
		}
		for q, w := range want {
			if g := got[q]; g != w {
				t.Errorf("now=%d queue %s:\n got %+v\nwant %+v", p, q, g, w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("now=%d: scraped %d queues with mail, the rows have %d", p, len(got), len(want))
		}
		if t.Failed() {
			t.Fatalf("log: %s", l.String())
		}
	}
	t.Logf("%d presents, %d messages inserted", len(presents), messages)
}

// edgeOffsets are arrival times, from a base, at and beside the minute boundaries and the
// bounds of the buckets.
var edgeOffsets = []int64{-90000, -76861, -76800, -76799, -61, -60, -59, -1, 0, 1, 59, 60, 299, 300, 301}

// ageBases are the two times the arrivals cluster around: 1970 (where minutes before it are
// negative) and 2027.
var ageBases = []int64{0, 1_800_000_000}

// insertArrivals adds queue rows (through the running totals' triggers) whose arrival times
// cluster around each base, two per edge second and 400 at random, and removes some again.
func insertArrivals(t *testing.T, ix *index.Index) int {
	t.Helper()
	rng := rand.New(rand.NewPCG(15, 1280))
	var arrivals []int64
	for _, base := range ageBases {
		for _, d := range edgeOffsets {
			arrivals = append(arrivals, base+d, base+d) // two messages in one second
		}
		for range 400 {
			arrivals = append(arrivals, base-rng.Int64N(100000)+600)
		}
	}
	for i, a := range arrivals {
		queue := [...]string{"deferred", "hold", "active"}[i%3]
		if _, err := ix.DB().Exec(`INSERT INTO queue_files (queue_id, queue, arrival_time, size, sender,
			forced_expire, recipient_count, next_attempt, file_size, inode, path, mode, mtime_ns)
			VALUES (?1, ?2, ?3, 1000, '', 0, 1, 0, 1000, ?4, ?2 || '/' || ?1, 384, 0)`,
			fmt.Sprintf("ID%05d", i), queue, a, i+1); err != nil {
			t.Fatal(err)
		}
	}
	// Some leave again, through the triggers that count them out.
	if _, err := ix.DB().Exec(`DELETE FROM queue_files WHERE inode % 7 = 0`); err != nil {
		t.Fatal(err)
	}
	return len(arrivals)
}

// agePresents are the presents to scrape at: for each base and bucket bound, the bound on an
// edge arrival second, one second before and after, and the last and first second of the
// minute after it; each bound with other edges (some arrivals then lie in the future).
func agePresents() []int64 {
	var out []int64
	k := 0
	for _, base := range ageBases {
		for _, le := range metrics.AgeBuckets {
			for range 2 {
				p := base + edgeOffsets[k%len(edgeOffsets)] + int64(le)
				k += 4
				minute := p - ((p%60)+60)%60 + 60
				out = append(out, p-1, p, p+1, minute-1, minute)
			}
		}
	}
	return out
}

// ages are one queue's age figures.
type ages struct {
	messages uint64
	oldest   int64
	sum      float64
	buckets  [9]uint64
}

// scrapedAges gathers c once and returns the figures of each queue with mail.
func scrapedAges(t *testing.T, c prometheus.Collector) map[string]ages {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ages{}
	oldest := map[string]int64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			queue := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "queue" {
					queue = l.GetValue()
				}
			}
			switch f.GetName() {
			case "mqsql_queue_oldest_arrival_timestamp_seconds":
				oldest[queue] = int64(m.GetGauge().GetValue())
			case "mqsql_queue_message_age_seconds":
				h := m.GetHistogram()
				if h.GetSampleCount() == 0 {
					continue
				}
				a := ages{messages: h.GetSampleCount(), sum: h.GetSampleSum()}
				for i, b := range h.GetBucket() {
					a.buckets[i] = b.GetCumulativeCount()
				}
				out[queue] = a
			}
		}
	}
	for q, a := range out {
		a.oldest = oldest[q]
		out[q] = a
	}
	return out
}

// queueArrivals are the arrival times of the messages in each queue, as the rows say.
func queueArrivals(t *testing.T, ix *index.Index) map[string][]int64 {
	t.Helper()
	rows, err := ix.DB().Query(`SELECT queue, arrival_time FROM queue_files`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]int64{}
	for rows.Next() {
		var q string
		var a int64
		if err := rows.Scan(&q, &a); err != nil {
			t.Fatal(err)
		}
		out[q] = append(out[q], a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowAges counts the messages of each queue at the present p one by one: a message's age is
// p minus its arrival, 0 for mail from the future, and it counts in each bucket of a bound at
// least its age.
func rowAges(arrivals map[string][]int64, p int64) map[string]ages {
	out := map[string]ages{}
	for q, as := range arrivals {
		a := ages{messages: uint64(len(as)), oldest: as[0]}
		for _, arrival := range as {
			a.oldest = min(a.oldest, arrival)
			age := max(p-arrival, 0)
			a.sum += float64(age)
			for i, le := range metrics.AgeBuckets {
				if float64(age) <= le {
					a.buckets[i]++
				}
			}
		}
		out[q] = a
	}
	return out
}
