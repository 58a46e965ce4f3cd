package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/internal/sendmailtest"
)

// scrapeUntil GETs url until its body contains want (20 s at most) and returns the last body.
func scrapeUntil(t *testing.T, url, want string) string {
	t.Helper()
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, body = get(t, url, "", ""); strings.Contains(body, want) {
			return body
		}
	}
	t.Errorf("%s never showed %s:\n%s", url, want, body)
	return body
}

// TestWatchByteSenderPostfix queues real Postfix mail whose envelope sender has a byte 0xff
// (sendmail -f: cleanup does not check UTF-8) and runs mqsql watch --listen on that queue
// with the shipped docs/metrics.example and a metric by sender: the watcher keeps serving,
// the byte shows as \xff, and the metric's run is no error.
func TestWatchByteSenderPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := pf.Sendmail(ctx, []string{"-f", "\xffbyte@sender.test", "rcpt@remote.test"}, []byte("Subject: byte\n\nbody\n")); err != nil {
		t.Fatalf("sendmail: %v: %s", err, out)
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	defs := byteMetrics(t, "name: test_senders\nhelp: Messages per sender.\ntype: gauge\nquery: SELECT sender, count(*) FROM messages GROUP BY sender\n")
	url := startWatchListen(t, pf.QueueDir(), "--metrics", defs) + "/metrics"
	body := scrapeUntil(t, url, `test_senders{sender="\\xffbyte@sender.test"} 1`)
	if !strings.Contains(body, `mqsql_metric_errors_total{metric="test_senders"} 0`) {
		t.Errorf("the sender metric failed:\n%s", body)
	}
}

// TestWatchByteReasonSendmail has a real Sendmail defer mail on a remote reply with a byte
// 0xff (stored raw in the queue file's M line) and runs mqsql watch --listen on that queue
// with the shipped docs/metrics.example, whose delay-reason metric runs at start: the watcher
// does not die, and the reason shows with \xff.
func TestWatchByteReasonSendmail(t *testing.T) {
	sm := sendmailtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := sm.Submit(ctx, "q-byte@sender.example", []string{"tempbyte@dest.example"}, []byte("Subject: byte\n\nbody\n")); err != nil {
		t.Fatal(err)
	}
	sendmailtest.StartPeer(t)
	if out, err := sm.RunQueue(ctx, "-qSq-byte"); err != nil {
		t.Fatalf("queue run: %v\n%s", err, out)
	}
	if !queueHasByte(t, sm.Queue) {
		t.Fatal("no queue file holds the byte 0xff: the precondition of the test is gone")
	}
	url := startWatchListen(t, sm.Queue, "--mta", "sendmail", "--metrics", byteMetrics(t, "")) + "/metrics"
	scrapeUntil(t, url, `mqsql_delayed_messages_by_reason{reason="Deferred: 452 4.2.2 <tempbyte@dest.example>: mailbox \\xff full"} 1`)
}

// byteMetrics writes the shipped docs/metrics.example, and extra after it, into a file.
func byteMetrics(t *testing.T, extra string) string {
	t.Helper()
	example, err := os.ReadFile("../../docs/metrics.example")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "test.metrics")
	if err := os.WriteFile(path, append(example, "\n"+extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// queueHasByte reports whether a qf file of the queue holds a byte 0xff.
func queueHasByte(t *testing.T, queue string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(queue, "qf*"))
	more, _ := filepath.Glob(filepath.Join(queue, "qf", "qf*"))
	for _, f := range append(files, more...) {
		if b, err := os.ReadFile(f); err == nil && bytes.IndexByte(b, 0xff) >= 0 {
			return true
		}
	}
	return false
}
