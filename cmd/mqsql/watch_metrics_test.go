package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/testspool"
	"golang.org/x/crypto/bcrypt"
)

// lockedBuffer is a log that a test reads while mqsql watch writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingAt = regexp.MustCompile(`serving metrics at (\S+)/metrics`)

// startWatchListen runs mqsql watch --listen 127.0.0.1:0 with args on the spool at dir and
// returns the base URL of its metrics; it stops when the test ends.
func startWatchListen(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return startWatchListenDB(t, dir, filepath.Join(t.TempDir(), "idx.db"), args...)
}

// startWatchListenDB is startWatchListen keeping the index file db.
func startWatchListenDB(t *testing.T, dir, db string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &lockedBuffer{}
	all := append([]string{"watch", "--spool", dir, "--db", db, "--listen", "127.0.0.1:0"}, args...)
	go func() { done <- run(ctx, all, nil, io.Discard, logs) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("mqsql watch exited %d:\n%s", code, logs.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := servingAt.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("mqsql watch does not serve metrics:\n%s", logs.String())
		}
	}
}

// get returns the status and body of GET url, with basic authentication when user is set.
func get(t *testing.T, url, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestWatchListen checks that mqsql watch --listen serves the built-in metrics and those of
// --metrics FILE (the shipped example) of the queue it watches.
func TestWatchListen(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	example, err := os.ReadFile("../../docs/metrics.example")
	if err != nil {
		t.Fatal(err)
	}
	// A scrape never reads the spool: header() has no spool to read in mqsql watch.
	content := "\nname: test_subject_length\nhelp: h\ntype: gauge\nquery: SELECT length(header(queue_id, 'Subject')) FROM messages LIMIT 1\n"
	defs := filepath.Join(t.TempDir(), "test.metrics")
	if err := os.WriteFile(defs, append(example, content...), 0o600); err != nil {
		t.Fatal(err)
	}
	url := startWatchListen(t, dir, "--metrics", defs, "--deferred-domains", "1")
	code, body := get(t, url+"/metrics", "", "")
	for _, want := range []string{
		`mqsql_queue_messages{queue="deferred"} 15`, `mqsql_queue_recipients{queue="deferred"} 26`,
		`mqsql_deferred_recipients{domain="remote.test"} 22`, `mqsql_deferred_recipients{domain="other"} 4`,
		`mqsql_null_sender_messages{queue="deferred"} 1`, `mqsql_index_up 1`, `mqsql_watcher_overflows_total 0`,
		`mqsql_events_total{event="arrived"} 0`, `mqsql_metric_errors_total{metric="test_subject_length"} 1`,
	} {
		if code != http.StatusOK || !strings.Contains(body, want+"\n") {
			t.Errorf("GET /metrics: %d, no %s in:\n%s", code, want, body)
		}
	}
	if strings.Contains(body, "\ntest_subject_length ") {
		t.Errorf("a metric read message content from the spool:\n%s", body)
	}
	if strings.Count(body, "mqsql_deferred_recipients{") != 2 {
		t.Errorf("--deferred-domains 1: want remote.test and other:\n%s", body)
	}
}

// TestWatchListenInterval checks that mqsql watch starts the loop of a metric with an
// interval: its first run, in the background, gives the scrapes a value.
func TestWatchListenInterval(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	defs := filepath.Join(t.TempDir(), "test.metrics")
	text := "name: test_deferred_messages\nhelp: h\ntype: gauge\ninterval: 1h\nquery: SELECT count(*) FROM messages WHERE queue = 'deferred'\n"
	if err := os.WriteFile(defs, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	url := startWatchListen(t, dir, "--metrics", defs)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, body := get(t, url+"/metrics", "", "")
		if strings.Contains(body, "\ntest_deferred_messages 15\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no test_deferred_messages 15 after 20s:\n%s", body)
		}
	}
}

// TestWatchListenBasicAuth checks that --web.config.file's basic authentication guards the
// endpoint.
func TestWatchListenBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(cfg, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := startWatchListen(t, testspool.Copy(t, testspool.Dir(t, "spool")), "--web.config.file", cfg)
	for _, tt := range []struct {
		user, password string
		code           int
	}{{"", "", 401}, {"prometheus", "wrong", 401}, {"prometheus", "s3cret", 200}} {
		if code, body := get(t, url+"/metrics", tt.user, tt.password); code != tt.code {
			t.Errorf("as %q/%q: %d, want %d\n%.300s", tt.user, tt.password, code, tt.code, body)
		}
	}
}

// TestWatchMetricsUsage checks that a mistake in the metrics flags or files stops mqsql watch
// at start, with exit 2 and the line and reason.
func TestWatchMetricsUsage(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	tmp := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badKey := write("bad-key.metrics", "name: m\nhelp: h\ntype: gauge\nlabel: x\n")
	writes := write("writes.metrics", "# ok so far\n\nname: m\nhelp: h\ntype: gauge\nquery: WITH x AS (SELECT 1) DELETE FROM messages\n")
	badWeb := write("web.yml", "tls_server_config:\n  cert_file: /nonexistent.pem\n")
	base := []string{"watch", "--spool", dir, "--db", filepath.Join(tmp, "idx.db")}
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--metrics", badKey}, exitUsage, "give --listen ADDR too"},
		{[]string{"--listen", "127.0.0.1:0", "--metrics", badKey}, exitUsage, badKey + `:4: unknown key "label"`},
		{[]string{"--listen", "127.0.0.1:0", "--metrics", filepath.Join(tmp, "missing")}, exitUsage, "no such file"},
		{[]string{"--listen", "127.0.0.1:0", "--metrics", writes}, exitUsage, writes + ":3: metric m: the query is not read-only"},
		{[]string{"--listen", "127.0.0.1:0", "--web.config.file", badWeb}, exitUsage, "--web.config.file " + badWeb},
		{[]string{"--listen", "127.0.0.1:0", "--deferred-domains", "0"}, exitUsage, "--deferred-domains must be at least 1"},
		{[]string{"--listen", "256.0.0.1:http"}, exitError, "--listen"},
		{[]string{"--listen", "9481"}, exitUsage, "--listen 9481: address 9481: missing port in address: give HOST:PORT, or :PORT"},
	}
	for _, tt := range tests {
		var errb bytes.Buffer
		args := append(append([]string{}, base...), tt.args...)
		if code := run(context.Background(), args, nil, io.Discard, &errb); code != tt.code || !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.stderr)
		}
	}
}
