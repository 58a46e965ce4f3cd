package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/metrics"
)

// TestListenIdleClients runs a real mqsql watch --listen with 128 descriptors at most
// (prlimit) and has 150 clients each scrape once over a kept-alive connection and then stay
// idle, as a client starving the endpoint would: the watcher never comes near its descriptor
// limit (no "too many open files"), it closes the idle connections by itself, and once the
// clients are gone a scrape is answered at once.
func TestListenIdleClients(t *testing.T) {
	const limit, clients = 128, 150
	bin := buildMQSQL(t)
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	logs := &lockedBuffer{}
	cmd := exec.Command("prlimit", "--nofile="+strconv.Itoa(limit)+":"+strconv.Itoa(limit), bin, "watch", "--spool", dir,
		"--db", filepath.Join(t.TempDir(), "idx.db"), "--listen", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	addr := waitServing(t, logs)
	t.Logf("mqsql watch holds %d descriptors before the clients", openDescriptors(t, cmd.Process.Pid))
	closed := make(chan time.Duration, clients)
	var conns []net.Conn
	for range clients {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go scrapeThenIdle(c, closed)
	}
	time.Sleep(2 * time.Second)
	if n := openDescriptors(t, cmd.Process.Pid); n >= limit {
		t.Errorf("mqsql watch holds %d descriptors of %d", n, limit)
	}
	var dropped int
	var longest time.Duration
	for wait := time.After(metrics.IdleTimeout + 10*time.Second); dropped < metrics.DefaultMaxConnections; dropped++ {
		select {
		case d := <-closed:
			longest = max(longest, d)
			continue
		case <-wait:
		}
		break
	}
	t.Logf("mqsql watch closed %d idle connections, the last %v after its answer", dropped, longest.Round(time.Second))
	if dropped < metrics.DefaultMaxConnections {
		t.Errorf("mqsql watch closed %d idle kept-alive connections within %v, want %d", dropped, metrics.IdleTimeout+10*time.Second, metrics.DefaultMaxConnections)
	}
	for _, c := range conns {
		c.Close()
	}
	// The requests the gone clients left in the listen queue are still served (at most
	// ScrapesInFlight at once, the others answered 503): the endpoint answers once they drain.
	client := &http.Client{Timeout: 15 * time.Second}
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		resp, err = client.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("scrape after the idle clients: %v", err)
	}
	if out := logs.String(); cmd.ProcessState != nil || strings.Contains(out, "too many open files") || resp.StatusCode != http.StatusOK {
		t.Errorf("scrape: %s; mqsql watch:\n%s", resp.Status, out)
	}
}

// scrapeThenIdle sends one scrape over c, reads the answer, and then waits, sending nothing,
// until the server closes c; it sends how long that took after the answer.
func scrapeThenIdle(c net.Conn, closed chan<- time.Duration) {
	if _, err := c.Write([]byte("GET /metrics HTTP/1.1\r\nHost: mqsql\r\n\r\n")); err != nil {
		return
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	answered := time.Now()
	if _, err := r.ReadByte(); err != nil {
		closed <- time.Since(answered)
	}
}

// waitServing waits until a watcher's log says where it serves metrics.
func waitServing(t *testing.T, logs *lockedBuffer) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := servingAt.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("mqsql watch does not serve metrics:\n%s", logs.String())
		}
	}
}

// openDescriptors counts the descriptors process pid holds open.
func openDescriptors(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}
