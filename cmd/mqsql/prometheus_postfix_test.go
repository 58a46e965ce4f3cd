package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/spool/postfix"
)

// requirePrometheus returns the path of a Prometheus program, skipping the test when it is not
// installed, or failing it when MQSQL_REQUIRE_PROMETHEUS=1 (CI installs Debian's prometheus).
func requirePrometheus(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("MQSQL_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("MQSQL_REQUIRE_PROMETHEUS=1 but %s is not installed: %v", name, err)
		}
		t.Skipf("%s is not installed (apt-get install prometheus)", name)
	}
	return path
}

// freePort returns a loopback address nobody listens on at the moment.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPrometheus runs a Prometheus of its own that scrapes target every second as job
// "mqsql", and returns the base URL of its HTTP API; it stops when the test ends.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := requirePrometheus(t, "prometheus")
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: mqsql\n    static_configs:\n      - targets: ['%s']\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not become ready:\n%s", logs.String())
		}
	}
}

// promQuery runs an instant query and returns its series as "label=value,..." → value.
func promQuery(t *testing.T, base, query string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s", query, r.Error)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		v, err := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		out[seriesKey(s.Metric)] = v
	}
	return out
}

// seriesKey names a series by its labels other than job and instance, sorted by name as
// Prometheus returns them: "queue=deferred,sender=x".
func seriesKey(labels map[string]string) string {
	var parts []string
	for _, k := range []string{"queue", "sender"} {
		if v, ok := labels[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

// queueCounts are postqueue -j's messages and recipients per queue, every message queue
// present.
func queueCounts(entries []postfixtest.Entry) (messages, recipients map[string]float64) {
	messages, recipients = map[string]float64{}, map[string]float64{}
	for _, q := range postfix.Meaning.Queues {
		if q.Listed {
			messages["queue="+string(q.Queue)], recipients["queue="+string(q.Queue)] = 0, 0
		}
	}
	for _, e := range entries {
		messages["queue="+e.QueueName]++
		recipients["queue="+e.QueueName] += float64(len(e.Recipients))
	}
	return messages, recipients
}

// sendersMetric is the SQL-defined metric the test checks against the same SQL run by hand.
const sendersSQL = "SELECT queue, sender, count(*) FROM messages GROUP BY queue, sender"

// byHand runs sendersSQL with mqsql on the index file and returns its rows as series.
func byHand(t *testing.T, dir, db string) map[string]float64 {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--spool", dir, "--db", db, "--header=false", "--format", "tsv", sendersSQL}, nil, &out, &errb); code != 0 {
		t.Fatalf("mqsql %q: exit %d: %s", sendersSQL, code, errb.String())
	}
	rows := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("mqsql answered %q", out.String())
		}
		n, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		rows["queue="+f[0]+",sender="+f[1]] = n
	}
	return rows
}

// until polls Prometheus with query until it answers want, and fails with the last answer.
func until(t *testing.T, base, query string, want map[string]float64) {
	t.Helper()
	var got map[string]float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if got = promQuery(t, base, query); fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
	}
	t.Errorf("prometheus answers %s with %v, want %v", query, got, want)
}

// TestPrometheusScrapesRealQueue runs a real Prometheus against mqsql watch --listen on the
// real Postfix queue: after mail arrives, is held and is deleted, Prometheus' query API
// returns postqueue -j's messages and recipients per queue, and an SQL-defined metric returns
// what the same SQL run by hand returns.
func TestPrometheusScrapesRealQueue(t *testing.T) {
	requirePrometheus(t, "prometheus")
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	defs := filepath.Join(tmp, "senders.metrics")
	text := "name: test_sender_messages\nhelp: Messages per queue and sender.\ntype: gauge\nquery: " + sendersSQL + "\n"
	if err := os.WriteFile(defs, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sendAndSettle(ctx, t, pf, "prom", 3)
	db := filepath.Join(tmp, "idx.db")
	target := strings.TrimPrefix(startWatchListenDB(t, pf.QueueDir(), db, "--metrics", defs), "http://")
	prom := startPrometheus(t, target)
	steps := []struct {
		name string
		do   func() error
	}{
		{"three messages", func() error { return nil }},
		{"two more", func() error { sendAndSettle(ctx, t, pf, "more", 2); return nil }},
		{"one held, one deleted", func() error {
			entries, err := pf.PostqueueJSON(ctx)
			if err != nil || len(entries) < 2 {
				return fmt.Errorf("postqueue -j: %d entries, %v", len(entries), err)
			}
			if _, err := pf.Postsuper(ctx, "-h", entries[0].QueueID); err != nil {
				return err
			}
			if _, err := pf.Postsuper(ctx, "-d", entries[1].QueueID); err != nil {
				return err
			}
			return pf.Settle(ctx)
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		entries, err := pf.PostqueueJSON(ctx)
		if err != nil {
			t.Fatal(err)
		}
		messages, recipients := queueCounts(entries)
		t.Logf("%s: postqueue -j lists %d messages: %v", s.name, len(entries), messages)
		until(t, prom, `mqsql_queue_messages{queue!="corrupt"}`, messages)
		until(t, prom, `mqsql_queue_recipients{queue!="corrupt"}`, recipients)
		until(t, prom, `test_sender_messages`, byHand(t, pf.QueueDir(), db))
	}
	until(t, prom, `up{job="mqsql"}`, map[string]float64{"": 1})
}
