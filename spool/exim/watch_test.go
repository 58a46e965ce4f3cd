package exim_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/eximtest"
	"github.com/mqsql/mqsql/internal/testindex"
)

// liveIndex is an index a watcher keeps equal to a real Exim's spool.
type liveIndex struct {
	t  *testing.T
	db *sql.DB
}

// rowOf is how the index shows message id: "queue queue_name recipients", "none" without a
// row.
func (l liveIndex) rowOf(id string) string {
	var queue, name string
	var rcpts int
	err := l.db.QueryRow(`SELECT queue, coalesce(queue_name, '-'), recipient_count FROM messages WHERE queue_id = ?`, id).Scan(&queue, &name, &rcpts)
	if errors.Is(err, sql.ErrNoRows) {
		return "none"
	}
	if err != nil {
		l.t.Fatal(err)
	}
	return fmt.Sprintf("%s %s %d", queue, name, rcpts)
}

// waitFor waits until the index shows id as want, failing the test when that takes more
// than a second.
func (l liveIndex) waitFor(what, id, want string) {
	l.t.Helper()
	start := time.Now()
	for l.rowOf(id) != want {
		if time.Since(start) > time.Second {
			l.t.Fatalf("%s: the index shows %s as %q a second later, want %q; events %v; rows %v", what, id, l.rowOf(id), want, l.events(id), l.paths(id))
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.t.Logf("%s: in the index after %v", what, time.Since(start).Round(time.Millisecond))
}

// paths lists the paths of id's rows, for a failure message.
func (l liveIndex) paths(id string) []string {
	rows, err := l.db.Query(`SELECT path FROM queue_files WHERE queue_id = ? ORDER BY path`, id)
	if err != nil {
		l.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// events lists the events of id, oldest first: "event from->to".
func (l liveIndex) events(id string) []string {
	rows, err := l.db.Query(`SELECT event, coalesce(from_queue, '-'), coalesce(to_queue, '-') FROM events WHERE queue_id = ? ORDER BY rowid`, id)
	if err != nil {
		l.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var event, from, to string
		if err := rows.Scan(&event, &from, &to); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, event+" "+from+"->"+to)
	}
	return out
}

// visited lists the queues id's arrived and moved events went to, in order, leaving out
// active and repeats.
func (l liveIndex) visited(id string) []string {
	var out []string
	for _, e := range l.events(id) {
		kind, fromTo, _ := strings.Cut(e, " ")
		_, to, _ := strings.Cut(fromTo, "->")
		if (kind == "arrived" || kind == "moved") && to != "active" && (len(out) == 0 || out[len(out)-1] != to) {
			out = append(out, to)
		}
	}
	return out
}

// stepRecorded checks that the events id got after the first mark of them record a step
// that left the message in queue: a "changed" event there, or, when the watcher saw the
// message locked while exim worked on it, moves through active and back.
func (l liveIndex) stepRecorded(what, id string, mark int, queue string) {
	l.t.Helper()
	all := l.events(id)
	step := all[mark:]
	if len(step) == 0 {
		l.t.Errorf("%s: no event for %s: %v", what, id, all)
		return
	}
	for _, e := range step {
		kind, fromTo, _ := strings.Cut(e, " ")
		from, to, _ := strings.Cut(fromTo, "->")
		if kind != "changed" && kind != "moved" || from != queue && from != "active" || to != queue && to != "active" {
			l.t.Errorf("%s: event %q for %s, want changes within %s (or active): %v", what, e, id, queue, all)
		}
	}
	if last := step[len(step)-1]; !strings.HasSuffix(last, "->"+queue) {
		l.t.Errorf("%s: the last event for %s is %q, want one into %s: %v", what, id, last, queue, all)
	}
}

// count is how many of id's events are want ("event from->to").
func (l liveIndex) count(id, want string) int {
	n := 0
	for _, e := range l.events(id) {
		if e == want {
			n++
		}
	}
	return n
}

// TestWatchFollowsRealExim runs a watcher on a real Exim's spool, flat and split, while Exim
// takes mail and an admin works on it, and checks that the index shows each step within a
// second and that the events table records it: a local arrival, an SMTP arrival whose -D is
// written a while before its -H, a freeze (exim -Mf) and a thaw (-Mt), a recipient added
// (-Mar), a delivery attempt that defers (-M, which appends to the msglog), a move into a
// named queue that did not exist yet (-MG), and a removal (-Mrm).
func TestWatchFollowsRealExim(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(map[bool]string{false: "flat", true: "split"}[split], func(t *testing.T) {
			e := eximtest.Require(t, split)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Exim makes input/ and msglog/ with its first message: a full pass follows that,
			// once in a spool's life. The live test starts after it.
			first := submit(t, e, "first@remote.test")
			sp := openSpool(t, e.Spool)
			ix := testindex.Memory(t, sp)
			w, err := ix.Watch(ctx, sp, index.WatchOptions{Logf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			l := liveIndex{t: t, db: ix.DB()}

			// A new second, so the split subdirectory (the ID's 6th character, the last digit of
			// its time) is one that does not exist yet.
			for next := time.Now().Unix() + 1; time.Now().Unix() < next; {
				time.Sleep(10 * time.Millisecond)
			}
			id := submit(t, e, "live@remote.test")
			if split && id[5] == first[5] {
				t.Fatalf("%s and %s share a split directory", first, id)
			}
			l.waitFor("arrival", id, "incoming - 1")
			slow := submitSlowly(t, e, 300*time.Millisecond)
			l.waitFor("SMTP arrival", slow, "incoming - 1")
			e.MustRun(t, nil, "-Mf", id)
			l.waitFor("freeze", id, "hold - 1")
			e.MustRun(t, nil, "-Mt", id)
			l.waitFor("thaw", id, "incoming - 1")
			beforeAdd := len(l.events(id))
			e.MustRun(t, nil, "-Mar", id, "added@remote.test")
			l.waitFor("recipient added", id, "incoming - 2")
			l.stepRecorded("recipient added", id, beforeAdd, "incoming")
			e.Run(nil, "-M", id) // exits 1: the delivery defers
			l.waitFor("delivery attempt", id, "deferred - 2")
			beforeMove := len(l.events(id))
			e.MustRun(t, nil, "-MG", "newq", id)
			l.waitFor("move to a new named queue", id, "deferred newq 2")
			l.stepRecorded("move to a new named queue", id, beforeMove, "deferred")
			e.MustRun(t, nil, "-qGnewq", "-Mrm", id) // exim's -M options act on the queue -qG names
			l.waitFor("removal", id, "none")

			for _, want := range []string{"arrived -->incoming", "left deferred->-"} {
				if l.count(id, want) != 1 {
					t.Errorf("%s: not one %q event: %v", id, want, l.events(id))
				}
			}
			// Every exim -M option holds the message's lock while it works: a busy machine may
			// show it active in between.
			if got := strings.Join(l.visited(id), " "); got != "incoming hold incoming deferred" {
				t.Errorf("%s: the events visit %s, want incoming hold incoming deferred: %v", id, got, l.events(id))
			}
			if got := l.events(slow); len(got) != 1 || got[0] != "arrived -->incoming" {
				t.Errorf("%s (its -D written first): events %v, want only its arrival", slow, got)
			}
			// The first full pass is the watcher's start. A new named queue is another when its
			// input/ is there by the time the watcher hears of the queue's directory, and none
			// when it comes after.
			if st := w.State(); !(st.Rescans == 1 && st.LastRescanReason == "start" || st.Rescans == 2 && st.LastRescanReason == "newq was created") {
				t.Errorf("the watcher needed %d full passes, the last because %s", st.Rescans, st.LastRescanReason)
			}
		})
	}
}

// submitSlowly sends one message over SMTP (exim -bs) with a pause in its body, so that the
// -D is in the spool for that long before the -H, as on a slow connection; it returns the
// message's ID.
func submitSlowly(t *testing.T, e *eximtest.Exim, pause time.Duration) string {
	t.Helper()
	before := map[string]bool{}
	for _, id := range e.IDs(t) {
		before[id] = true
	}
	cmd := e.Command("-odq", "-bs", "-oMa", "192.0.2.7.4000")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(in, "EHLO slow.example\r\nMAIL FROM:<slow@client.example>\r\nRCPT TO:<slow@remote.test>\r\nDATA\r\nSubject: slow\r\n\r\nfirst half\r\n")
	deadline := time.Now().Add(time.Second)
	for !dataWithoutHeader(e.Spool) {
		if time.Now().After(deadline) {
			t.Fatal("no -D without its -H while Exim receives the body")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(pause)
	fmt.Fprint(in, "second half\r\n.\r\nQUIT\r\n")
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, id := range e.IDs(t) {
		if !before[id] {
			return id
		}
	}
	t.Fatal("no new message in the spool")
	return ""
}

// dataWithoutHeader reports whether a -D in the spool has no -H beside it.
func dataWithoutHeader(spool string) bool {
	found := false
	filepath.WalkDir(spool, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "-D") {
			if _, err := os.Lstat(strings.TrimSuffix(p, "D") + "H"); errors.Is(err, os.ErrNotExist) {
				found = true
			}
		}
		return nil
	})
	return found
}

// TestWatchSeesLockEnd locks a sample message's -D as a delivery (or an admin's exim -Mf)
// does, changes its msglog meanwhile, and releases the lock: the watcher shows it active, and
// within a second not active any more, although the release changed no file.
func TestWatchSeesLockEnd(t *testing.T) {
	dir := copyMessage(t, "testdata/exim/spool", plainID)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sp := openSpool(t, dir)
	ix := testindex.Memory(t, sp)
	w, err := ix.Watch(ctx, sp, index.WatchOptions{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l := liveIndex{t: t, db: ix.DB()}
	l.waitFor("start", plainID, "incoming - 1")
	lock := lockData(t, filepath.Join(dir, "input", plainID+"-D"))
	f, err := os.OpenFile(filepath.Join(dir, "msglog", plainID), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("2026-12-01 19:53:09.000 bob@remote.test R=closed T=t_closed defer (111): Connection refused DT=0.000s\n")
	f.Close()
	l.waitFor("a msglog line while locked", plainID, "active - 1")
	lock.Close()
	l.waitFor("the lock released", plainID, "incoming - 1")
	if got := strings.Join(l.events(plainID), ", "); got != "moved incoming->active, moved active->incoming" {
		t.Errorf("events %s", got)
	}
}
