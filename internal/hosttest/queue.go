package hosttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Message is one message as the host's own postqueue -j lists it: the oracle tests
// compare mqsql's answer with.
type Message struct {
	QueueName string `json:"queue_name"`
	QueueID   string `json:"queue_id"`
	Sender    string `json:"sender"`
}

// Send submits a message through the host's own sendmail (inside its namespace). The
// recipient should be remote: it defers against the closed relayhost and stays queued.
func (h *Host) Send(t testing.TB, from, to, subject string) {
	t.Helper()
	msg := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\n\nfrom host %s\n", from, to, subject, h.Name)
	argv := []string{"--target", fmt.Sprint(h.cmd.Process.Pid), "--mount", "--uts", "--", "sendmail", "-f", from, to}
	cmd := exec.Command("nsenter", argv...)
	cmd.Stdin = strings.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hosttest: %s: sendmail: %v\n%s", h.Name, err, out)
	}
}

// Queue is the host's queue as its own postqueue -j lists it.
func (h *Host) Queue(t testing.TB) []Message {
	t.Helper()
	out, err := h.Output(context.Background(), "postqueue", "-j")
	if err != nil {
		t.Fatalf("hosttest: %s: postqueue -j: %v", h.Name, err)
	}
	var ms []Message
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("hosttest: %s: postqueue -j: %v in %q", h.Name, err, sc.Text())
		}
		ms = append(ms, m)
	}
	return ms
}

// WaitDeferred waits until the host's queue holds n messages, all deferred: pickup, cleanup
// and the failed delivery attempt are done, and the queue no longer changes by itself
// (.ci/postfix-setup puts the next retry hours away).
func (h *Host) WaitDeferred(t testing.TB, n int) []Message {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ms := h.Queue(t)
		deferred := 0
		for _, m := range ms {
			if m.QueueName == "deferred" {
				deferred++
			}
		}
		if len(ms) == n && deferred == n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("hosttest: %s: queue has %d messages, %d deferred, want %d deferred", h.Name, len(ms), deferred, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
