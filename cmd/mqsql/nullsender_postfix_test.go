package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// TestLiveNullSenderCount puts three bounces (null sender) and two other messages in the live
// Postfix queue and a damaged file in deferred/: sender = "" counts the messages postqueue -j
// lists with the null sender, not the damaged file, whose sender is NULL.
func TestLiveNullSenderCount(t *testing.T) {
	pf := postfixtest.Require(t)
	liveQueue(t, pf, map[string]int{"": 3, "ok@fine.test": 2})
	junk := filepath.Join(pf.QueueDir(), "deferred", "D", "4jc7ZZZZZZzdZZZ")
	if err := os.MkdirAll(filepath.Dir(junk), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junk, []byte("junk, not records\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(junk) })
	entries, err := pf.PostqueueJSON(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bounces := 0
	for _, e := range entries {
		if e.Sender == "MAILER-DAEMON" { // how postqueue -j shows the null sender
			bounces++
		}
	}
	r := runMQSQL(t, "", "--no-cache", "--header=false", "SELECT count(*) FILTER (WHERE sender = ''), count(*) FILTER (WHERE sender IS NULL) FROM messages")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := strconv.Itoa(bounces) + ",1"
	if bounces != 3 || strings.TrimSpace(r.stdout) != want {
		t.Errorf("postqueue -j lists %d null-sender messages; mqsql counts (sender = '', sender IS NULL) %q, want %q", bounces, strings.TrimSpace(r.stdout), want)
	}
}
