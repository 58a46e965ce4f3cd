// Command latency measures how quickly mqsql's live index follows a real Postfix queue under a
// storm: the time from a message landing in the queue to its row being visible to a query
// (arrival), and from postsuper -d deleting it to its row being gone (departure), as p50/p99.
//
// smtp-source pushes a sustained burst into smtpd on 127.0.0.1:25 while a probe client sends
// tagged messages at a steady pace and deletes each one again a second later with postsuper.
// A message has landed when smtpd answers "250 ... queued as ID" (cleanup has written, synced
// and completed the file by then); it is deleted when postsuper -d has returned. A reader on
// its own connection polls the index every few milliseconds. After the storm the queue
// settles and the index is compared with postqueue -j.
//
// It only runs against the test Postfix set up by .ci/postfix-setup (it deletes the whole
// queue), and it holds the tests' queue lock, so it never runs alongside Postfix tests:
//
//	go run ./bench/latency -runs 3
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"
)

type config struct {
	runs        int
	messages    int
	sessions    int
	size        int
	probes      int
	probeEvery  time.Duration
	deleteAfter time.Duration
	pollEvery   time.Duration
	db          string
	debounce    time.Duration
	maxDelay    time.Duration
	cpuProfile  string
}

func main() {
	var c config
	flag.IntVar(&c.runs, "runs", 3, "independent runs; the summary gives the median of each figure")
	flag.IntVar(&c.messages, "messages", 30000, "messages smtp-source sends in the storm")
	flag.IntVar(&c.sessions, "sessions", 20, "parallel smtp-source sessions")
	flag.IntVar(&c.size, "size", 1000, "message length for smtp-source (-l)")
	flag.IntVar(&c.probes, "probes", 400, "probe messages whose latency is measured")
	flag.DurationVar(&c.probeEvery, "probe-every", 50*time.Millisecond, "interval between probes")
	flag.DurationVar(&c.deleteAfter, "delete-after", time.Second, "how long after landing a probe is deleted with postsuper -d")
	flag.DurationVar(&c.pollEvery, "poll-every", 5*time.Millisecond, "how often the reader queries the index")
	flag.StringVar(&c.db, "db", "file", "index kind: file (WAL, as mqsql watch keeps it) or memory (as the REPL keeps it)")
	flag.DurationVar(&c.debounce, "debounce", 0, "the watcher's debounce (0: its default)")
	flag.DurationVar(&c.maxDelay, "max-delay", 0, "the watcher's maximum delay under a constant stream (0: its default)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the runs to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := bench(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

// bench takes the queue lock, checks the Postfix is the test one, and runs the storms.
func bench(ctx context.Context, c config) error {
	unlock, err := lockQueue(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := checkTestPostfix(); err != nil {
		return err
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var results []result
	for i := range c.runs {
		fmt.Printf("run %d/%d: %d messages from smtp-source (%d sessions), %d probes every %v, index in %s\n",
			i+1, c.runs, c.messages, c.sessions, c.probes, c.probeEvery, c.db)
		r, err := runOnce(ctx, c)
		if err != nil {
			return err
		}
		r.print()
		results = append(results, r)
	}
	if len(results) > 1 {
		printMedians(results)
	}
	return resetQueue(ctx)
}
