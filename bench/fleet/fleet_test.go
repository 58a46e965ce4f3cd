// Package fleet_test measures a query over many hosts (mqsql --hosts) against each host's own
// time, with and without ssh's ControlMaster, on real hosts started by internal/hosttest.
// It runs only when MQSQL_BENCH_FLEET=1 (bench/fleet.sh sets it): it takes minutes.
package fleet_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/hosttest"
)

const query = "SELECT sender, count(*) AS n, sum(size) AS bytes FROM messages GROUP BY sender"

// setting reads an integer setting from the environment.
func setting(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestFleetBench(t *testing.T) {
	if os.Getenv("MQSQL_BENCH_FLEET") != "1" {
		t.Skip("set MQSQL_BENCH_FLEET=1 (bench/fleet.sh) to measure")
	}
	bin := hosttest.Build(t)
	runs, messages := setting("RUNS", 5), setting("MESSAGES", 100)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("| hosts | slowest host alone | ssh set-up | fleet, plain ssh | ratio | fleet, ControlMaster | ratio | ssh loop, one host after the other |\n")
	fmt.Printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	defer func() {
		end, _ := os.ReadFile("/proc/loadavg")
		fmt.Printf("| load average at start: %s | at end: %s |\n", strings.TrimSpace(string(load)), strings.TrimSpace(string(end)))
	}()
	for _, n := range []int{3, 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { measure(t, bin, n, runs, messages) })
	}
}

// measure starts n hosts with messages deferred messages each and prints one table row,
// medians of runs: the slowest host's own time (its mqsql run inside its namespace), one ssh
// connection's set-up (ssh host true), and the fleet query without and with ControlMaster,
// each with its ratio to slowest + set-up (the goal is at most 1.3).
func measure(t *testing.T, bin string, n, runs, messages int) {
	specs := make([]hosttest.Spec, n)
	names := make([]string, n)
	for i := range specs {
		names[i] = fmt.Sprintf("b%02d", i+1)
		specs[i] = hosttest.Spec{Name: names[i]}
	}
	f := hosttest.Start(t, bin, specs...)
	for _, h := range f.Hosts {
		for i := range messages {
			h.Send(t, fmt.Sprintf("s%d@mqsql.test", i%7), fmt.Sprintf("r%d@remote.example", i), "bench")
		}
	}
	slowest := time.Duration(0)
	for _, h := range f.Hosts {
		h.WaitDeferred(t, messages)
		alone := func() error {
			_, err := h.Output(context.Background(), "mqsql", "--format", "jsonl", "--dry-run", query)
			return err
		}
		if err := alone(); err != nil { // builds the host's cache index
			t.Fatal(err)
		}
		slowest = max(slowest, median(t, runs, alone))
	}
	setup := median(t, runs, func() error {
		return exec.Command("ssh", "-F", f.SSHConfig, "-o", "BatchMode=yes", names[0], "true").Run()
	})
	fleetRun := func(ssh string) func() error {
		return func() error {
			out, err := exec.Command(bin, "--hosts", strings.Join(names, ","), "--ssh", ssh, "--format", "csv", query).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		}
	}
	plain := median(t, runs, fleetRun(f.SSH()))
	loop := median(t, runs, func() error { // what admins do today: one host after the other
		for _, h := range names {
			cmd := fleetCommand(f.SSHConfig, h)
			if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
		}
		return nil
	})
	cm := f.SSH() + " -o ControlMaster=auto -o ControlPersist=120 -o ControlPath=" + filepath.Join(t.TempDir(), "cm-%C")
	t.Cleanup(func() {
		for _, h := range names {
			_ = exec.Command("sh", "-c", cm+" -O exit "+h+" 2>/dev/null").Run()
		}
	})
	if err := fleetRun(cm)(); err != nil { // opens the masters
		t.Fatal(err)
	}
	shared := median(t, runs, fleetRun(cm))
	base := slowest + setup
	fmt.Printf("| %d | %s | %s | %s | %.2f | %s | %.2f | %s |\n", n, ms(slowest), ms(setup), ms(plain),
		float64(plain)/float64(base), ms(shared), float64(shared)/float64(base), ms(loop))
}

// fleetCommand is the ssh command a fleet runs for one host, for the loop run by hand.
func fleetCommand(sshConfig, host string) []string {
	return []string{"ssh", "-F", sshConfig, "-o", "BatchMode=yes", host,
		"mqsql --format jsonl --dry-run '" + query + "'"}
}

// median runs fn k times and returns the median wall time.
func median(t *testing.T, k int, fn func() error) time.Duration {
	t.Helper()
	var ds []time.Duration
	for range k {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
