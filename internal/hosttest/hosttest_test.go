package hosttest_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/hosttest"
)

// TestHostsAreApart: each host answers over ssh with its own hostname and its own empty
// queue, and the host without mqsql has none on its PATH.
func TestHostsAreApart(t *testing.T) {
	bin := hosttest.Build(t)
	f := hosttest.Start(t, bin, hosttest.Spec{Name: "h1"}, hosttest.Spec{Name: "h2", NoMqsql: true})
	for _, h := range f.Hosts {
		out, err := exec.Command("ssh", "-F", f.SSHConfig, "-o", "BatchMode=yes", h.Name,
			"hostname; postconf -h myhostname; command -v mqsql || echo none").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", h.Name, err, out)
		}
		want := h.Name + "\n" + h.Name + ".fleet.test\n/usr/local/bin/mqsql\n"
		if h.Name == "h2" {
			want = "h2\nh2.fleet.test\nnone\n"
		}
		if string(out) != want {
			t.Errorf("%s answered %q, want %q", h.Name, out, want)
		}
		q, err := h.Output(context.Background(), "postqueue", "-j")
		if err != nil || strings.TrimSpace(string(q)) != "" {
			t.Errorf("%s: a fresh host's queue is not empty: %v %q", h.Name, err, q)
		}
	}
}

// TestSendDefers: mail sent on a host stays in that host's queue, deferred, and nowhere
// else: the other host's queue stays empty.
func TestSendDefers(t *testing.T) {
	bin := hosttest.Build(t)
	t.Log("built")
	f := hosttest.Start(t, bin, hosttest.Spec{Name: "h1"}, hosttest.Spec{Name: "h2", NoMqsql: true})
	t.Log("started")
	f.Host("h1").Send(t, "a@mqsql.test", "b@remote.example", "x")
	t.Log("sent")
	ms := f.Host("h1").WaitDeferred(t, 1)
	t.Log("deferred")
	if ms[0].Sender != "a@mqsql.test" {
		t.Errorf("h1 holds %v", ms)
	}
	if q := f.Host("h2").Queue(t); len(q) != 0 {
		t.Errorf("h2 holds %v, want nothing", q)
	}
}
