package sendmail_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestIndexSamples builds mqsql's index from the sample queue: the tables hold what the
// driver reads, the views work on it.
func TestIndexSamples(t *testing.T) {
	ix := testindex.Memory(t, open(t, samples+"/mqueue"))
	var n, held, lost, nulls int
	row := ix.DB().QueryRow(`SELECT count(*), sum(queue = 'hold'), sum(queue = 'corrupt'), sum(sender = '') FROM messages`)
	if err := row.Scan(&n, &held, &lost, &nulls); err != nil {
		t.Fatal(err)
	}
	if n != 12 || held != 1 || lost != 1 || nulls != 2 {
		t.Errorf("%d messages, %d held, %d lost, %d null senders", n, held, lost, nulls)
	}
	var reason string
	var rcpts int
	if err := ix.DB().QueryRow(`SELECT reason, recipients FROM reasons ORDER BY recipients DESC, reason LIMIT 1`).Scan(&reason, &rcpts); err != nil {
		t.Fatal(err)
	}
	if reason != "Deferred: Connection refused by [127.0.0.1]" || rcpts != 3 {
		t.Errorf("top reason %q for %d recipients", reason, rcpts)
	}
}

// TestWatchRealSendmail: the live index follows a real Sendmail queue within a second: a
// message's arrival, its quarantine, and its deletion.
func TestWatchRealSendmail(t *testing.T) {
	sm := sendmailtest.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sp := open(t, sm.Queue)
	ix := testindex.Memory(t, sp)
	w, err := ix.Watch(ctx, sp, index.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	queueOf := func() string {
		var q string
		err := ix.DB().QueryRow(`SELECT queue FROM messages WHERE sender = 'live@sender.example'`).Scan(&q)
		if errors.Is(err, sql.ErrNoRows) {
			return "none"
		}
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	waitFor := func(what, want string) {
		t.Helper()
		start := time.Now()
		for queueOf() != want {
			if time.Since(start) > time.Second {
				t.Fatalf("%s: the index says %q a second later, want %q", what, queueOf(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s: seen in %v", what, time.Since(start).Round(time.Millisecond))
	}
	if err := sm.Submit(ctx, "live@sender.example", []string{"rcpt@dest.example"}, []byte("Subject: live\n\nbody\n")); err != nil {
		t.Fatal(err)
	}
	waitFor("arrival", "incoming")
	if _, err := sm.RunQueue(ctx, "-Qlive hold", "-qSlive@sender.example"); err != nil {
		t.Fatal(err)
	}
	waitFor("quarantine", "hold")
	var target mqsql.Target
	for _, tg := range targets(t, sm.Queue) {
		target = tg
	}
	x := &sendmail.Executor{Spool: sp}
	if out := x.Apply(ctx, mqsql.OpDelete, target.Queue, []mqsql.Target{target}); out[0].Result != mqsql.Applied {
		t.Fatalf("delete: %+v", out)
	}
	waitFor("deletion", "none")
}
