package index_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
)

// postqueueDiff lists how the index differs from what postqueue -j listed; empty when equal.
// It is compareWithPostqueue without failing, for waiting until the index has caught up.
func postqueueDiff(t *testing.T, db *sql.DB, entries []postfixtest.Entry) []string {
	t.Helper()
	got := loadIndexed(t, db)
	queueOf := map[string]string{}
	for _, m := range got {
		queueOf[m.id] = m.queue
	}
	var diffs []string
	seen := map[string]bool{}
	for _, e := range entries {
		key := e.QueueName + "/" + e.QueueID
		seen[key] = true
		m := got[key]
		switch {
		case m == nil && queueOf[e.QueueID] != "":
			diffs = append(diffs, key+": in "+queueOf[e.QueueID]+" in the index")
		case m == nil:
			diffs = append(diffs, key+": missing from the index")
		case m.arrival != e.ArrivalTime || m.size != e.MessageSize || m.forced != e.ForcedExpire || shown(m.sender, true) != e.Sender:
			diffs = append(diffs, key+": fields differ")
		case !slices.Equal(sortRecipients(e.Recipients), sortRecipients(postqueueView(m.rcpts))):
			diffs = append(diffs, key+": recipients differ")
		}
	}
	for key := range got {
		if !seen[key] {
			diffs = append(diffs, key+": in the index, not in postqueue")
		}
	}
	return diffs
}

// lostAfter is how long after Postfix settled an index that still differs from postqueue -j
// is taken to have lost something. It bounds loss, not speed: under the race detector on a
// busy two-core machine the watcher can be ten seconds behind a 20,000-message burst, and
// catches up. How fast the index follows is measured by bench/latency, not here.
const lostAfter = time.Minute

// followsPostqueue waits until the index equals postqueue -j after Postfix has settled (for
// at most lostAfter), then checks it field for field.
func followsPostqueue(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, db *sql.DB) []postfixtest.Entry {
	t.Helper()
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	return catchesUp(ctx, t, pf, db)
}

// catchesUp is followsPostqueue for a queue that is still now: Postfix stopped, or settled.
func catchesUp(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, db *sql.DB) []postfixtest.Entry {
	t.Helper()
	start := time.Now()
	for {
		entries, err := pf.PostqueueJSON(ctx)
		if err != nil {
			t.Fatal(err)
		}
		diffs := postqueueDiff(t, db, entries)
		waited := time.Since(start)
		if len(diffs) > 0 && waited > lostAfter {
			t.Errorf("%d differences %v after Postfix settled, e.g. %v", len(diffs), lostAfter, diffs[:min(5, len(diffs))])
		}
		if len(diffs) == 0 || waited > lostAfter {
			if waited > time.Second {
				t.Logf("the index caught up with postqueue -j %v after Postfix settled", waited.Round(time.Millisecond))
			}
			compareWithPostqueue(t, db, entries)
			return entries
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventCount counts the events rows of one queue ID matching an event and from/to queues
// ("" matches anything).
func eventCount(t *testing.T, db *sql.DB, id, event, from, to string) int {
	t.Helper()
	var n int
	err := db.QueryRow(`SELECT count(*) FROM events WHERE queue_id = ? AND event = ?
		AND (? = '' OR from_queue = ?) AND (? = '' OR to_queue = ?)`, id, event, from, from, to, to).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventsOf lists the events of one queue ID, oldest first, for a failure message.
func eventsOf(t *testing.T, db *sql.DB, id string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT event, coalesce(from_queue, '-'), coalesce(to_queue, '-'), coalesce(sender, '?')
		FROM events WHERE queue_id = ? ORDER BY rowid`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var event, from, to, sender string
		if err := rows.Scan(&event, &from, &to, &sender); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s->%s <%s>", event, from, to, sender))
	}
	return out
}

// TestWatchFollowsPostfix runs a watcher on a persistent index while real Postfix takes mail
// and an admin works on the queue, and checks after each step that the index equals
// postqueue -j and that events recorded what happened.
func TestWatchFollowsPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	w, db := watchLive(ctx, t, pf)

	var ids []string
	t.Run("arrivals", func(t *testing.T) {
		c, err := pf.Dial(ctx, "watch.client.test")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			id, err := c.Send(ctx, &postfixtest.Message{From: fmt.Sprintf("watch%d@sender.test", i%3),
				To: []string{fmt.Sprintf("r%d@remote.test", i)}, BodySize: 2000})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		c.Quit(ctx)
		followsPostqueue(ctx, t, pf, db)
		for _, id := range ids {
			if eventCount(t, db, id, index.EventArrived, "", "") != 1 {
				t.Errorf("%s: no arrived event", id)
			}
		}
	})
	if len(ids) < 30 {
		t.Fatal("arrivals failed")
	}
	t.Run("hold and release", func(t *testing.T) {
		runPostsuper(ctx, t, pf, "-h", ids[:5]...)
		followsPostqueue(ctx, t, pf, db)
		runPostsuper(ctx, t, pf, "-H", ids[:5]...)
		followsPostqueue(ctx, t, pf, db)
		for _, id := range ids[:5] {
			if eventCount(t, db, id, index.EventMoved, "deferred", "hold") != 1 || eventCount(t, db, id, index.EventMoved, "hold", "deferred") != 1 {
				t.Errorf("%s: hold and release not both recorded as moves", id)
			}
		}
	})
	t.Run("requeue", func(t *testing.T) {
		runPostsuper(ctx, t, pf, "-r", ids[5])
		kickPickup(ctx, t)
		followsPostqueue(ctx, t, pf, db)
		if eventCount(t, db, ids[5], index.EventLeft, "", "") != 1 {
			t.Errorf("%s: requeued (it gets a new queue ID) but no left event", ids[5])
		}
	})
	t.Run("local delivery", func(t *testing.T) {
		id, err := pf.SendMessage(ctx, &postfixtest.Message{From: "local@sender.test", To: []string{"root@localhost"}, BodySize: 500})
		if err != nil {
			t.Fatal(err)
		}
		followsPostqueue(ctx, t, pf, db)
		if eventCount(t, db, id, index.EventLeft, "", "") != 1 {
			t.Errorf("%s: delivered locally but no left event", id)
		}
	})
	t.Run("postsuper -d behind its back", func(t *testing.T) {
		runPostsuper(ctx, t, pf, "-d", ids[10:20]...)
		followsPostqueue(ctx, t, pf, db)
		for _, id := range ids[10:20] {
			if eventCount(t, db, id, index.EventLeft, "deferred", "") != 1 {
				t.Errorf("%s: deleted but no left event from deferred", id)
			}
		}
		var sender string
		if err := db.QueryRow(`SELECT sender FROM events WHERE queue_id = ? AND event = 'left'`, ids[10]).Scan(&sender); err != nil || sender != "watch1@sender.test" {
			t.Errorf("left event sender %q (%v), want watch1@sender.test", sender, err)
		}
	})
	t.Run("what left in the last hour", func(t *testing.T) {
		rows, err := db.Query(`SELECT queue_id, from_queue, coalesce(sender, '?') FROM events
			WHERE event = 'left' AND time > unixepoch('now', '-1 hour') ORDER BY time`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		left := map[string]bool{}
		for rows.Next() {
			var id, from, sender string
			if err := rows.Scan(&id, &from, &sender); err != nil {
				t.Fatal(err)
			}
			left[id] = true
		}
		want := append([]string{ids[5]}, ids[10:20]...) // requeued and deleted; plus the local delivery
		for _, id := range want {
			if !left[id] {
				t.Errorf("%s left in the last hour but the query does not list it", id)
			}
		}
		if len(left) != len(want)+1 {
			t.Errorf("the query lists %d messages that left, want %d", len(left), len(want)+1)
			for id := range left {
				if !slices.Contains(want, id) {
					t.Logf("%s: events %v", id, eventsOf(t, db, id))
				}
			}
		}
	})
	t.Run("burst", func(t *testing.T) {
		n := populationSize(t, 3000)
		_, err := pf.SMTPSource(ctx, "-s", "20", "-m", strconv.Itoa(n), "-l", "1500", "-N",
			"-f", "burst@sender.test", "-t", "burst@remote.test")
		if err != nil {
			t.Fatal(err)
		}
		entries := followsPostqueue(ctx, t, pf, db)
		var arrived int
		if err := db.QueryRow(`SELECT count(DISTINCT queue_id) FROM events WHERE sender = 'burst@sender.test' AND event = 'arrived'`).Scan(&arrived); err != nil {
			t.Fatal(err)
		}
		t.Logf("burst of %d: %d in postqueue, %d arrived events; watcher state %+v", n, len(entries), arrived, w.State())
		if arrived < n {
			t.Errorf("%d arrived events for a burst of %d", arrived, n)
		}
	})
}

// watchLive empties the real queue and starts a watcher on it with an index file, as mqsql
// watch keeps one; both close when the test ends.
func watchLive(ctx context.Context, t *testing.T, pf *postfixtest.Postfix) (*index.Watcher, *sql.DB) {
	t.Helper()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	w, err := ix.Watch(ctx, liveSpool(t), index.WatchOptions{Reconcile: time.Hour, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, ix.DB()
}

// runPostsuper runs postsuper op on each ID.
func runPostsuper(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, op string, ids ...string) {
	t.Helper()
	var args []string
	for _, id := range ids {
		args = append(args, op, id)
	}
	if out, err := pf.Postsuper(ctx, args...); err != nil {
		t.Fatalf("postsuper %v: %v: %s", args, err, out)
	}
}

// kickPickup wakes pickup, which otherwise looks at maildrop once a minute.
func kickPickup(ctx context.Context, t *testing.T) {
	t.Helper()
	path, err := exec.LookPath("postkick")
	if err != nil {
		path = "/usr/sbin/postkick"
	}
	if out, err := exec.CommandContext(ctx, path, "public", "pickup", "W").CombinedOutput(); err != nil {
		t.Fatalf("postkick: %v: %s", err, out)
	}
}

// TestWatchRecoversUnderPostfix loses every inotify event while real Postfix takes a burst
// and an admin deletes and holds mail, then reports an overflow: the rescan it triggers must
// leave the index equal to postqueue -j, with the changes recorded as events.
func TestWatchRecoversUnderPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	var src *lossySource
	ix, err := index.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	// The first arrival makes the index "loaded", so the rescan below records events.
	first, err := pf.SendMessage(ctx, &postfixtest.Message{From: "first@sender.test", To: []string{"x@remote.test"}, BodySize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := ix.Watch(ctx, liveSpool(t), index.WatchOptions{Reconcile: time.Hour, Logf: t.Logf,
		NewSource: func() (index.EventSource, error) {
			var err error
			src, err = newLossySource()
			return src, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src.drop.Store(true)
	if _, err := pf.SMTPSource(ctx, "-s", "10", "-m", "500", "-l", "800", "-N", "-f", "lost@sender.test", "-t", "lost@remote.test"); err != nil {
		t.Fatal(err)
	}
	runPostsuper(ctx, t, pf, "-h", first)
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if eventCount(t, ix.DB(), first, index.EventMoved, "deferred", "hold") != 0 {
		t.Fatal("the watcher saw a change whose events were all dropped: the test proves nothing")
	}
	src.drop.Store(false)
	src.inject(fsnotify.ErrEventOverflow)
	followsPostqueue(ctx, t, pf, ix.DB())
	if eventCount(t, ix.DB(), first, index.EventMoved, "deferred", "hold") != 1 {
		t.Errorf("%s: the hold found by the rescan is not recorded", first)
	}
	var arrived int
	if err := ix.DB().QueryRow(`SELECT count(*) FROM events WHERE sender = 'lost@sender.test' AND event = 'arrived'`).Scan(&arrived); err != nil {
		t.Fatal(err)
	}
	if arrived != 500 {
		t.Errorf("%d arrived events for 500 messages found by the rescan", arrived)
	}
	if st := w.State(); st.Overflows != 1 || st.Rescans < 1 {
		t.Errorf("watcher state %+v: want one overflow and a rescan", st)
	}
}

// TestWatchAcrossPostfixRestart stops and starts real Postfix under a running watcher, with
// mail deleted, held and submitted while it is down and the hold queue directory replaced:
// the watcher keeps watching (no error, no fallback to polling) and the index follows
// postqueue -j throughout.
func TestWatchAcrossPostfixRestart(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if !pf.Running(context.Background()) {
			if err := pf.Start(context.Background()); err != nil {
				t.Errorf("start Postfix again: %v", err)
			}
		}
	})
	w, db := watchLive(ctx, t, pf)
	var ids []string
	for i := range 10 {
		id, err := pf.SendMessage(ctx, &postfixtest.Message{From: "restart@sender.test", To: []string{fmt.Sprintf("r%d@remote.test", i)}, BodySize: 800})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	followsPostqueue(ctx, t, pf, db)

	if err := pf.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	runPostsuper(ctx, t, pf, "-d", ids[:3]...)
	runPostsuper(ctx, t, pf, "-h", ids[3:5]...)
	msg := []byte("From: down@sender.test\nTo: r@remote.test\nSubject: sent while Postfix was down\n\nbody\n")
	if out, err := pf.Sendmail(ctx, []string{"-f", "down@sender.test", "r@remote.test"}, msg); err != nil {
		t.Fatalf("sendmail while Postfix is down: %v: %s", err, out)
	}
	catchesUp(ctx, t, pf, db) // postqueue -j reads the queue itself while Postfix is down
	if n := countWhere(t, db, `sender = 'down@sender.test' AND queue = 'maildrop'`); n != 1 {
		t.Errorf("%d messages of down@sender.test in maildrop while Postfix is down, want 1", n)
	}
	replaceQueueDir(ctx, t, pf, db, "hold")

	if err := pf.Start(ctx); err != nil {
		t.Fatal(err)
	}
	kickPickup(ctx, t)
	followsPostqueue(ctx, t, pf, db)
	if n := countWhere(t, db, `sender = 'down@sender.test' AND queue = 'deferred'`); n != 1 {
		t.Errorf("%d messages of down@sender.test in deferred after Postfix started, want 1", n)
	}
	if n := countWhere(t, db, `sender = 'restart@sender.test' AND queue = 'hold'`); n != 2 {
		t.Errorf("%d held messages of restart@sender.test, want 2", n)
	}
	if st := w.State(); st.Mode != "inotify" || st.Fallback != "" || st.LastError != "" {
		t.Errorf("watcher after Postfix stopped and started: %+v", st)
	}
}

// replaceQueueDir moves a queue directory of the stopped Postfix aside and creates it again,
// empty, with the same owner and mode (an admin emptying a queue by hand): the index must drop
// its messages. Then it moves the files back into the new directory: the index must see them,
// which it can only if it watches the new directory.
func replaceQueueDir(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, db *sql.DB, queue string) {
	t.Helper()
	dir := filepath.Join(pf.QueueDir(), queue)
	aside := dir + ".mqsql-test-aside"
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	owner := st.Sys().(*syscall.Stat_t)
	before := countWhere(t, db, "queue = '"+queue+"'")
	if err := os.Rename(dir, aside); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(aside)
	if err := os.Mkdir(dir, st.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
		t.Fatal(err)
	}
	catchesUp(ctx, t, pf, db)
	if n := countWhere(t, db, "queue = '"+queue+"'"); n != 0 {
		t.Errorf("%d messages indexed in %s after it was replaced by an empty directory", n, queue)
	}
	files, err := os.ReadDir(aside)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.Rename(filepath.Join(aside, f.Name()), filepath.Join(dir, f.Name())); err != nil {
			t.Fatal(err)
		}
	}
	catchesUp(ctx, t, pf, db)
	if n := countWhere(t, db, "queue = '"+queue+"'"); n != before || n == 0 {
		t.Errorf("%d messages indexed in %s after its files were moved back, want %d (and some)", n, queue, before)
	}
}

// countWhere counts the messages rows matching a condition.
func countWhere(t *testing.T, db *sql.DB, cond string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM messages WHERE ` + cond).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
