// Command scrape measures what a Prometheus scrape of mqsql costs on an existing index file,
// side by side with a showq-based scrape: `postqueue -j` parsed into the same counts, which
// is what the exporters that run showq on every scrape pay. It prints, for each side, the
// median and slowest wall time and the CPU time (user+sys) per scrape, and the ratio:
//
//	scrape -db /var/tmp/mqsql-bench/index-100000.db -runs 20 -postqueue
//	mqsql: median_ms=3.1 max_ms=4.0 cpu_ms=3.0 messages=100000
//	postqueue: median_ms=1520.0 max_ms=1601.2 cpu_ms=1490.3 messages=100000
//	ratio: 490
//
// The mqsql side is the whole HTTP scrape (GET /metrics of the built-in metrics, text format)
// of a watcher-less index; -postqueue needs the queue the index mirrors to be Postfix's
// (bench/run.sh swaps it in), and the two must count the same messages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "scrape: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scrape", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "index file, as made by mqsql --db")
	runs := fs.Int("runs", 20, "how many scrapes to time on each side")
	postqueue := fs.Bool("postqueue", false, "also time postqueue -j parsed into the same counts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" || fs.NArg() != 0 || *runs < 1 {
		return errors.New("usage: scrape -db FILE [-runs N] [-postqueue]")
	}
	if _, err := os.Stat(*db); err != nil {
		return err // index.Open would create an empty index
	}
	scrape, done, err := mqsqlScraper(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	m, err := measure(*runs, scrape)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mqsql: %s\n", m)
	if !*postqueue {
		return nil
	}
	p, err := measure(*runs, func() (int, error) { return postqueueScrape(ctx) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "postqueue: %s\n", p)
	if p.messages != m.messages {
		return fmt.Errorf("postqueue -j lists %d messages, the index %d: not the same queue", p.messages, m.messages)
	}
	fmt.Fprintf(stdout, "ratio: %.0f\n", p.median/m.median)
	return nil
}

// result is one side's timings.
type result struct {
	median, max, cpu float64 // milliseconds; cpu per scrape
	messages         int
}

func (r result) String() string {
	return fmt.Sprintf("median_ms=%.2f max_ms=%.2f cpu_ms=%.2f messages=%d", r.median, r.max, r.cpu, r.messages)
}

// measure runs scrape runs times after one warm-up run, timing each.
func measure(runs int, scrape func() (int, error)) (result, error) {
	if _, err := scrape(); err != nil {
		return result{}, err
	}
	var times []float64
	var r result
	before := cpuTime()
	for range runs {
		start := time.Now()
		n, err := scrape()
		if err != nil {
			return r, err
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
		r.messages = n
	}
	r.cpu = float64((cpuTime() - before).Microseconds()) / 1000 / float64(runs)
	slices.Sort(times)
	r.median, r.max = times[len(times)/2], times[len(times)-1]
	return r, nil
}

// cpuTime is the user and system time of this process and of its children that ended
// (postqueue and the showq it runs).
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}
