package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/hosttest"
)

// fleetRun runs mqsql with args and returns stdout, stderr and the exit status.
func fleetRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// TestFleetRealHosts runs statements over real hosts (namespaces with their own Postfix and
// sshd, internal/hosttest) and checks each host's part against its own postqueue -j, the
// merge against the sum, and that a down host and a host without mqsql are named while the
// others' rows stay.
func TestFleetRealHosts(t *testing.T) {
	bin := hosttest.Build(t)
	t.Log("mqsql built for the hosts")
	f := hosttest.Start(t, bin,
		hosttest.Spec{Name: "mx1"}, hosttest.Spec{Name: "mx2"}, hosttest.Spec{Name: "bare", NoMqsql: true},
		hosttest.Spec{Name: "ro", ReadOnly: true})
	t.Log("hosts started")
	mx1, mx2 := f.Host("mx1"), f.Host("mx2")
	for i := range 3 {
		mx1.Send(t, "hijacked@mqsql.test", fmt.Sprintf("victim%d@remote.example", i), "spam")
	}
	mx1.Send(t, "alice@mqsql.test", "bob@remote.example", "hello")
	for i := range 2 {
		mx2.Send(t, "hijacked@mqsql.test", fmt.Sprintf("victim%d@other.example", i), "spam")
	}
	ro := f.Host("ro")
	ro.Send(t, "alice@mqsql.test", "carol@remote.example", "hello")
	oracle := map[string][]hosttest.Message{"mx1": mx1.WaitDeferred(t, 4), "mx2": mx2.WaitDeferred(t, 2), "ro": ro.WaitDeferred(t, 1)}
	t.Log("mail queued")

	t.Run("rows", func(t *testing.T) { fleetRows(t, f, oracle) })
	t.Run("merge", func(t *testing.T) { fleetMerge(t, f, oracle) })
	t.Run("read-only key", func(t *testing.T) { fleetReadOnly(t, f) })
	t.Run("all answer", func(t *testing.T) {
		out, errs, code := fleetRun(t, "--hosts", "mx2,mx1,ro", "--ssh", f.SSH(), "--format", "csv",
			"SELECT count(*) AS n FROM messages")
		if code != exitOK || out != "host,n\nmx2,2\nmx1,4\nro,1\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and mx2 then mx1", code, out, errs)
		}
	})
}

// fleetRows: one jsonl result set, hosts in --hosts order, each host's rows equal to its
// postqueue -j, the failed hosts as rows with host_error and on stderr, exit status 1.
func fleetRows(t *testing.T, f *hosttest.Fleet, oracle map[string][]hosttest.Message) {
	out, errs, code := fleetRun(t, "--hosts", "mx1,down,mx2,bare,ro", "--ssh", f.SSH(), "--format", "jsonl",
		"SELECT queue_id, sender, queue FROM messages ORDER BY queue_id")
	if code != exitError {
		t.Errorf("exit %d, want %d (a host did not answer)", code, exitError)
	}
	for _, want := range []string{"mqsql: down: unreachable: ", "mqsql: bare: no mqsql: "} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	var order []string
	got := map[string][]hosttest.Message{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Host      string  `json:"host"`
			QueueID   *string `json:"queue_id"`
			Sender    *string `json:"sender"`
			Queue     *string `json:"queue"`
			HostError *string `json:"host_error"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v in %q", err, line)
		}
		if len(order) == 0 || order[len(order)-1] != r.Host {
			order = append(order, r.Host)
		}
		if r.HostError != nil {
			continue
		}
		got[r.Host] = append(got[r.Host], hosttest.Message{QueueName: *r.Queue, QueueID: *r.QueueID, Sender: *r.Sender})
	}
	if want := []string{"mx1", "down", "mx2", "bare", "ro"}; !reflect.DeepEqual(order, want) {
		t.Errorf("hosts in the order %q, want %q (one block each)", order, want)
	}
	for host, want := range oracle {
		sort.Slice(want, func(i, j int) bool { return want[i].QueueID < want[j].QueueID })
		if !reflect.DeepEqual(got[host], want) {
			t.Errorf("%s: mqsql says\n%v\npostqueue -j says\n%v", host, got[host], want)
		}
	}
}

// fleetMerge: senders counted on each host and summed by --merge equal the sum of the
// hosts' own postqueue -j; the down host is reported and costs nothing else.
func fleetMerge(t *testing.T, f *hosttest.Fleet, oracle map[string][]hosttest.Message) {
	out, errs, code := fleetRun(t, "--hosts", "mx1,mx2,down,ro", "--ssh", f.SSH(), "--format", "csv",
		"--merge", "SELECT sender, sum(n) AS n, count(*) AS hosts FROM fleet GROUP BY sender ORDER BY sender",
		"SELECT sender, count(*) AS n FROM messages GROUP BY sender")
	if code != exitError || !strings.Contains(errs, "mqsql: down: unreachable: ") {
		t.Errorf("exit %d, stderr %q; want 1 naming down", code, errs)
	}
	sum, hosts := map[string]int{}, map[string]map[string]bool{}
	for host, ms := range oracle {
		for _, m := range ms {
			sum[m.Sender]++
			if hosts[m.Sender] == nil {
				hosts[m.Sender] = map[string]bool{}
			}
			hosts[m.Sender][host] = true
		}
	}
	want := [][]string{{"sender", "n", "hosts"}}
	for _, s := range []string{"alice@mqsql.test", "hijacked@mqsql.test"} {
		want = append(want, []string{s, fmt.Sprint(sum[s]), fmt.Sprint(len(hosts[s]))})
	}
	got, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("merge printed %q (%v), want %q", got, err, want)
	}
}

// fleetReadOnly: a key forced to "mqsql ssh-reader" answers a fleet's read and refuses any
// other command, a write sent by hand among them.
func fleetReadOnly(t *testing.T, f *hosttest.Fleet) {
	for _, cmd := range []string{
		"hostname",
		"'mqsql' '--format' 'jsonl' '--yes' 'DELETE FROM messages WHERE size > 0'",
		"'mqsql' '--format' 'jsonl' '--dry-run' 'DELETE FROM messages WHERE 1'",
	} {
		out, err := exec.Command("ssh", "-F", f.SSHConfig, "-o", "BatchMode=yes", "ro", cmd).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(string(out), "refused") {
			t.Errorf("ro ran %q: %v %q; want refused with exit 2", cmd, err, out)
		}
	}
	if q := f.Host("ro").Queue(t); len(q) != 1 {
		t.Errorf("ro's queue holds %d messages after the refusals, want 1", len(q))
	}
}
