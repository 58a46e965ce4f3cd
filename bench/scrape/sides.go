package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// mqsqlScraper returns a function that scrapes the built-in metrics of the index file db over
// HTTP and returns the messages they count.
func mqsqlScraper(ctx context.Context, db string) (func() (int, error), func(), error) {
	ix, err := index.Open(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	// As mqsql watch --listen does: an index built without a metrics endpoint has no running
	// totals yet, which this builds from the rows once, before the scrapes are timed.
	if err := ix.KeepRunningTotals(ctx); err != nil {
		ix.Close()
		return nil, nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(ctx, ix, metrics.Options{}))
	srv := httptest.NewServer(metrics.Handler(reg, nil))
	scrape := func() (int, error) {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		return countMessages(string(body))
	}
	return scrape, func() { srv.Close(); ix.Close() }, nil
}

var queueMessages = regexp.MustCompile(`(?m)^mqsql_queue_messages\{queue="(\w+)"\} (\S+)$`)

// countMessages sums mqsql_queue_messages over the queues postqueue lists (not corrupt).
func countMessages(body string) (int, error) {
	total := 0
	for _, m := range queueMessages.FindAllStringSubmatch(body, -1) {
		if m[1] == "corrupt" {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return 0, err
		}
		total += int(v)
	}
	return total, nil
}

// showqCounts are the figures a showq-based exporter computes from postqueue -j.
type showqCounts struct {
	messages, recipients, bytes map[string]int64
	oldest                      map[string]int64
	deferredDomains             map[string]int64
}

// postqueueScrape runs postqueue -j and parses it into the same counts mqsql serves.
func postqueueScrape(ctx context.Context) (int, error) {
	cmd := exec.CommandContext(ctx, "postqueue", "-j")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	c := showqCounts{messages: map[string]int64{}, recipients: map[string]int64{}, bytes: map[string]int64{},
		oldest: map[string]int64{}, deferredDomains: map[string]int64{}}
	n, parseErr := c.read(out)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("postqueue -j: %w", err)
	}
	return n, parseErr
}

// read adds each line of postqueue -j to the counts and returns the messages read.
func (c *showqCounts) read(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		var e struct {
			Queue      string `json:"queue_name"`
			Arrival    int64  `json:"arrival_time"`
			Size       int64  `json:"message_size"`
			Recipients []struct {
				Address string `json:"address"`
			} `json:"recipients"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return n, fmt.Errorf("postqueue -j: %w", err)
		}
		n++
		c.messages[e.Queue]++
		c.recipients[e.Queue] += int64(len(e.Recipients))
		c.bytes[e.Queue] += e.Size
		if o, ok := c.oldest[e.Queue]; !ok || e.Arrival < o {
			c.oldest[e.Queue] = e.Arrival
		}
		if e.Queue == "deferred" {
			for _, r := range e.Recipients {
				_, domain, _ := strings.Cut(r.Address, "@")
				c.deferredDomains[strings.ToLower(domain)]++
			}
		}
	}
	return n, sc.Err()
}
