package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestWatchSIGTERMFast checks the daemon contract that SIGTERM ends a real mqsql watch
// process within 0.5 s: without metrics, and serving metrics with a scraper's keep-alive
// connection open, and with a connection that has sent no request yet (a scraper that
// connected, or a stalled one), which must not hold the exit. Each case is measured three times, from the signal to the exit.
func TestWatchSIGTERMFast(t *testing.T) {
	bin := buildMQSQL(t)
	for _, tt := range []struct {
		name   string
		args   []string
		silent bool // also open a connection that sends nothing
	}{
		{"plain", nil, false},
		{"metrics", []string{"--listen", "127.0.0.1:0"}, false},
		{"silent connection", []string{"--listen", "127.0.0.1:0"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 3 {
				took := sigtermWatch(t, bin, tt.args, tt.silent)
				t.Logf("run %d: exit %v after SIGTERM", i+1, took)
				if took > 500*time.Millisecond {
					t.Errorf("run %d: mqsql watch took %v to exit after SIGTERM, want at most 500ms", i+1, took)
				}
			}
		})
	}
}

// sigtermWatch starts mqsql watch with args on a copy of the sample spool, waits until it
// is ready (and scrapes its metrics once, keeping the connection, when it serves them),
// opens a connection that sends nothing when silent, sends SIGTERM and returns how long the process took to exit.
func sigtermWatch(t *testing.T, bin string, args []string, silent bool) time.Duration {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	db := filepath.Join(t.TempDir(), "idx.db")
	cmd := exec.Command(bin, append([]string{"watch", "--spool", dir, "--db", db}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	url, serves := "", len(args) > 0
	for ready := false; !ready || (serves && url == ""); {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("mqsql watch exited before it was ready")
			}
			if m := servingAt.FindStringSubmatch(l); m != nil {
				url = "http://" + m[1] + "/metrics"
			}
			ready = ready || strings.Contains(l, "ready:")
		case <-time.After(20 * time.Second):
			t.Fatal("mqsql watch did not become ready")
		}
	}
	if url != "" {
		resp, err := http.Get(url) // the client keeps the connection open, as Prometheus does
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if silent {
		c, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		time.Sleep(50 * time.Millisecond) // accepted before the signal
	}
	go func() {
		for range lines {
		}
	}()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("mqsql watch after SIGTERM: %v", err)
	}
	return time.Since(start)
}
