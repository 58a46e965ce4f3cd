package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mqsql/mqsql/bench/internal/measure"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/spool/postfix"
)

const (
	probeSender = "probe@bench.test"
	stormSender = "storm@bench.test"
)

// result is what one run measured.
type result struct {
	arrivals, departures []time.Duration
	unseen, notGone      int
	stormMessages        int
	stormTook            time.Duration
	postsuperTook        []time.Duration
	queued               int
	diffs                []string
	state                index.WatchState
	cpu                  time.Duration // this process (watcher and reader) during the storm
	load                 string        // /proc/loadavg at the end of the storm
}

// runOnce empties the queue, starts a watcher on a new index, runs one storm with probes, and
// compares the index with postqueue -j once Postfix has settled.
func runOnce(ctx context.Context, c config) (result, error) {
	var r result
	if err := resetQueue(ctx); err != nil {
		return r, err
	}
	ix, reader, cleanup, err := openIndexes(ctx, c.db)
	if err != nil {
		return r, err
	}
	defer cleanup()
	cfg, err := postfix.LoadConfig(ctx)
	if err != nil {
		return r, err
	}
	sp, err := postfix.Open(cfg)
	if err != nil {
		return r, err
	}
	defer sp.Close()
	w, err := ix.Watch(ctx, sp, index.WatchOptions{Debounce: c.debounce, MaxDelay: c.maxDelay,
		Logf: func(f string, a ...any) { fmt.Printf("  watcher: "+f+"\n", a...) }})
	if err != nil {
		return r, err
	}
	defer w.Close()

	obs := newObserver(reader, c.pollEvery)
	obsCtx, stopObs := context.WithCancel(ctx)
	go obs.run(obsCtx)
	defer stopObs()

	stormStart := time.Now()
	cpu0 := measure.CPUTime()
	wait, err := startStorm(ctx, c)
	if err != nil {
		return r, err
	}
	time.Sleep(500 * time.Millisecond) // let the storm reach speed before probing
	landed, deleted, took, err := probe(ctx, c)
	if werr := wait(err != nil); err == nil {
		err = werr
	}
	if err != nil {
		return r, err
	}
	r.stormTook, r.stormMessages, r.postsuperTook = time.Since(stormStart), c.messages, took
	r.cpu, r.load = measure.CPUTime()-cpu0, loadAvg()
	if c.messages > 0 && r.stormTook < 2*time.Second {
		fmt.Println("  warning: the storm ended before the probes; raise -messages")
	}
	obs.waitAll(landed, 10*time.Second)
	stopObs()
	r.arrivals, r.departures, r.unseen, r.notGone = obs.latencies(landed, deleted)
	if err := settle(ctx); err != nil {
		return r, err
	}
	r.queued, r.diffs, err = compareSettled(ctx, reader)
	r.state = w.State()
	return r, err
}

// startStorm starts smtp-source (nothing when c.messages is 0, for a baseline without load);
// the function it returns waits for it to finish, or kills it first.
func startStorm(ctx context.Context, c config) (wait func(kill bool) error, err error) {
	if c.messages == 0 {
		return func(bool) error { return nil }, nil
	}
	storm := exec.CommandContext(ctx, tool("smtp-source"), "-s", strconv.Itoa(c.sessions), "-m", strconv.Itoa(c.messages),
		"-l", strconv.Itoa(c.size), "-N", "-f", stormSender, "-t", "storm@remote.test", "inet:"+postfixtest.SMTPAddr)
	if err := storm.Start(); err != nil {
		return nil, fmt.Errorf("smtp-source: %w", err)
	}
	return func(kill bool) error {
		if kill {
			storm.Process.Kill()
		}
		if err := storm.Wait(); err != nil && !kill {
			return fmt.Errorf("smtp-source: %w", err)
		}
		return nil
	}, nil
}

// openIndexes opens the index the watcher writes and the handle the reader queries: for a
// file, a second database handle, as another process would have; in memory, the same
// database (another pooled connection), as in the REPL.
func openIndexes(ctx context.Context, kind string) (ix *index.Index, reader *index.Index, cleanup func(), err error) {
	if kind == "memory" {
		ix, err = index.Open(ctx, "")
		if err != nil {
			return nil, nil, nil, err
		}
		return ix, ix, func() { ix.Close() }, nil
	}
	dir, err := os.MkdirTemp("", "mqsql-latency-")
	if err != nil {
		return nil, nil, nil, err
	}
	path := filepath.Join(dir, "index.db")
	if ix, err = index.Open(ctx, path); err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	if reader, err = index.Open(ctx, path); err != nil {
		ix.Close()
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	return ix, reader, func() { reader.Close(); ix.Close(); os.RemoveAll(dir) }, nil
}

// probe sends c.probes messages at a steady pace over one SMTP session, recording when each
// landed, and deletes each c.deleteAfter later with postsuper -d, recording when that
// returned and how long postsuper took.
func probe(ctx context.Context, c config) (landed, deleted map[string]time.Time, took []time.Duration, err error) {
	cl, err := postfixtest.DialAddr(ctx, postfixtest.SMTPAddr, "probe.bench.test")
	if err != nil {
		return nil, nil, nil, err
	}
	defer cl.Quit(ctx)
	landed, deleted = map[string]time.Time{}, map[string]time.Time{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(c.probeEvery)
	defer tick.Stop()
	for i := range c.probes {
		<-tick.C
		id, err := cl.Send(ctx, &postfixtest.Message{From: probeSender, To: []string{fmt.Sprintf("probe%d@remote.test", i)}, BodySize: c.size})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("probe %d: %w", i, err)
		}
		at := time.Now()
		mu.Lock()
		landed[id] = at
		mu.Unlock()
		wg.Go(func() {
			time.Sleep(time.Until(at.Add(c.deleteAfter)))
			start := time.Now()
			out, err := exec.CommandContext(ctx, tool("postsuper"), "-d", id).CombinedOutput()
			end := time.Now()
			if err != nil {
				fmt.Printf("  postsuper -d %s: %v: %s\n", id, err, out)
				return
			}
			mu.Lock()
			deleted[id] = end
			took = append(took, end.Sub(start))
			mu.Unlock()
		})
	}
	wg.Wait()
	return landed, deleted, took, nil
}

// compareSettled compares the settled queue with the index, as postqueue -j lists it: the
// same queue IDs in the same queues, with the same arrival time, size, sender and number of
// recipients. It waits a little for the index, which may still be applying the last events.
func compareSettled(ctx context.Context, reader *index.Index) (int, []string, error) {
	var diffs []string
	var n int
	for range 50 {
		entries, err := postqueue(ctx)
		if err != nil {
			return 0, nil, err
		}
		n = len(entries)
		if diffs, err = diffIndex(ctx, reader, entries); err != nil || len(diffs) == 0 {
			return n, diffs, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n, diffs, nil
}

func diffIndex(ctx context.Context, reader *index.Index, entries []postfixtest.Entry) ([]string, error) {
	rows, err := reader.DB().QueryContext(ctx, `SELECT queue, queue_id, arrival_time, size, sender, recipient_count FROM messages WHERE queue != 'corrupt'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]string{}
	for rows.Next() {
		var q, id, sender string
		var arrival, size, rcpts int64
		if err := rows.Scan(&q, &id, &arrival, &size, &sender, &rcpts); err != nil {
			return nil, err
		}
		if sender == "" {
			sender = "MAILER-DAEMON"
		}
		have[q+"/"+id] = fmt.Sprint(arrival, size, sender, rcpts)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var diffs []string
	for _, e := range entries {
		key := e.QueueName + "/" + e.QueueID
		if want := fmt.Sprint(e.ArrivalTime, e.MessageSize, e.Sender, len(e.Recipients)); have[key] != want {
			diffs = append(diffs, fmt.Sprintf("%s: index %q, postqueue %q", key, have[key], want))
		}
		delete(have, key)
	}
	for key := range have {
		diffs = append(diffs, key+": in the index only")
	}
	return diffs, nil
}

// loadAvg is the machine's load average and its CPU and I/O pressure (the share of the last
// minute in which some task waited for a CPU, or for I/O), which say how much the storm and
// anything else competed with the watcher.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ") + "; CPU pressure " + pressure("cpu") + ", I/O pressure " + pressure("io")
}

// pressure returns the "some avg60" figure of /proc/pressure/kind, in percent.
func pressure(kind string) string {
	b, err := os.ReadFile("/proc/pressure/" + kind)
	if err != nil {
		return "?"
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "avg60="); ok {
			return v + "%"
		}
	}
	return "?"
}
