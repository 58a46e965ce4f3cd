package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// TestHistoryWatchRealPostfix runs mqsql watch beside the real Postfix: a message delivered
// while it runs becomes a deliveries row without another run reading the log, and a watcher
// killed and started again neither doubles nor loses that row.
func TestHistoryWatchRealPostfix(t *testing.T) {
	pf, ctx, bin := emptyQueue(t)
	db := filepath.Join(t.TempDir(), "w.db")
	watcher := watchProcessOf(t, bin, db, "--spool", pf.QueueDir(), "--db", db, "--history-days", "7")
	id, err := pf.SendMessage(ctx, &postfixtest.Message{From: "watch-hist" + runTag + "@sender.test", To: []string{"root@localhost"}, Body: []byte("x\n")})
	if err != nil {
		t.Fatal(err)
	}
	query := "SELECT count(*) FROM deliveries WHERE queue_id = '" + id + "' AND status = 'sent'"
	waitForRows(t, db, query, "1")
	killWatcher(t, watcher)
	watchProcessOf(t, bin, db, "--spool", pf.QueueDir(), "--db", db, "--history-days", "7")
	time.Sleep(time.Second) // the new watcher's follower reads on from the saved position
	waitForRows(t, db, query, "1")
}

// waitForRows waits until query, run on the watched index db, prints want.
func waitForRows(t *testing.T, db, query, want string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r := runMQSQL(t, "", "--db", db, "--format", "csv", "--header=false", query)
		if got = strings.TrimSpace(r.stdout); got == want {
			return
		}
	}
	t.Fatalf("%s: %q, want %q", query, got, want)
}
