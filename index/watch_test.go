package index_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// A queue file of the sample spool whose bytes the tests copy under new names.
const sampleFile = "hold/4jc86b0jCBz5bb9"

// watchEnv is a copy of the sample spool, an index and a running watcher on them.
type watchEnv struct {
	dir    string
	sample []byte
	sp     *postfix.Spool
	ix     *index.Index
	w      *index.Watcher
}

func newWatchEnv(t *testing.T, dbPath string, opt index.WatchOptions) *watchEnv {
	t.Helper()
	e := &watchEnv{dir: testspool.Copy(t, testspool.Dir(t, "spool"))}
	var err error
	if e.sample, err = os.ReadFile(filepath.Join(e.dir, sampleFile)); err != nil {
		t.Fatal(err)
	}
	e.sp = testspool.Open(t, e.dir)
	if e.ix, err = index.Open(context.Background(), dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.ix.Close() })
	if opt.Logf == nil {
		opt.Logf = t.Logf
	}
	if e.w, err = e.ix.Watch(context.Background(), e.sp, opt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.w.Close() })
	return e
}

func (e *watchEnv) path(rel string) string { return filepath.Join(e.dir, rel) }

// write creates a queue file the way cleanup does: written with mode 0600 (or 0644 in
// maildrop), then made complete with a chmod.
func (e *watchEnv) write(t *testing.T, rel string, writing, done os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(e.path(rel)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.path(rel), e.sample, writing); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(e.path(rel), done); err != nil {
		t.Fatal(err)
	}
}

// queueOf returns the queue the index has id in, "" when none.
func queueOf(t *testing.T, db *sql.DB, id string) string {
	t.Helper()
	var q sql.NullString
	if err := db.QueryRow(`SELECT max(queue) FROM messages WHERE queue_id = ?`, id).Scan(&q); err != nil {
		t.Fatal(err)
	}
	return q.String
}

type eventRow struct {
	event, from, to string
	sender          sql.NullString
	size            sql.NullInt64
}

// lastEvent returns the newest events row of id.
func lastEvent(t *testing.T, db *sql.DB, id string) eventRow {
	t.Helper()
	var r eventRow
	var from, to sql.NullString
	err := db.QueryRow(`SELECT event, from_queue, to_queue, sender, size FROM events WHERE queue_id = ?
		ORDER BY rowid DESC LIMIT 1`, id).Scan(&r.event, &from, &to, &r.sender, &r.size)
	if errors.Is(err, sql.ErrNoRows) {
		return eventRow{}
	}
	if err != nil {
		t.Fatal(err)
	}
	r.from, r.to = from.String, to.String
	return r
}

// untilTrue polls cond until it holds or timeout passes, then fails with cond's last word.
func untilTrue(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// indexRows describes an index as comparable lines: one per message with its file stamps and
// recipients, so that two indexes of the same spool can be compared exactly.
func indexRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT m.queue, m.queue_id, m.path, m.size, coalesce(m.sender, '<NULL>'), m.recipient_count, m.next_attempt,
		m.forced_expire, m.inode, coalesce(m.error, ''),
		(SELECT group_concat(address || '|' || status || '|' || coalesce(delay_reason, ''), ',')
		 FROM (SELECT * FROM recipients r WHERE r.queue_id = m.queue_id ORDER BY address, status))
		FROM messages m ORDER BY m.path`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var q, id, path, sender, errText string
		var size, count, next, forced, inode int64
		var rcpts sql.NullString
		if err := rows.Scan(&q, &id, &path, &size, &sender, &count, &next, &forced, &inode, &errText, &rcpts); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s %d %q %d %d %d %d %q %s", q, id, path, size, sender, count, next, forced, inode, errText, rcpts.String))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// freshRows is indexRows of a new index synced from the spool: the truth to compare with.
func freshRows(t *testing.T, sp *postfix.Spool) []string {
	t.Helper()
	ix, err := index.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Sync(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	return indexRows(t, ix.DB())
}

// matchesSpool reports whether the index equals a fresh read of the spool.
func matchesSpool(t *testing.T, e *watchEnv) func() (bool, string) {
	return func() (bool, string) {
		got, want := indexRows(t, e.ix.DB()), freshRows(t, e.sp)
		if slices.Equal(got, want) {
			return true, ""
		}
		return false, fmt.Sprintf("index differs from the spool:\nindex: %s\nspool: %s",
			strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
}

// TestWatchFollowsFiles does, on a copy of the sample spool, each thing Postfix and its tools
// do to queue files, and checks that the index follows within a second and that the events
// table says what happened.
func TestWatchFollowsFiles(t *testing.T) {
	for _, db := range []string{"memory", "file"} {
		t.Run(db, func(t *testing.T) {
			path := ""
			if db == "file" {
				path = filepath.Join(t.TempDir(), "index.db")
			}
			testFollowsFiles(t, newWatchEnv(t, path, index.WatchOptions{Reconcile: time.Hour}))
		})
	}
}

func testFollowsFiles(t *testing.T, e *watchEnv) {
	const id, dropped = "Q1234ABCDEF", "M5678GHJKL"
	steps := []struct {
		name  string
		do    func(t *testing.T)
		id    string
		queue string // where the index must then have id ("" = nowhere)
		event eventRow
	}{
		{"incomplete file is no message", func(t *testing.T) {
			if err := os.WriteFile(e.path("incoming/"+id), e.sample, 0o600); err != nil {
				t.Fatal(err)
			}
		}, id, "", eventRow{}},
		{"chmod 0700 completes it", func(t *testing.T) { chmodFile(t, e.path("incoming/"+id), 0o700) },
			id, "incoming", eventRow{event: index.EventArrived, to: "incoming"}},
		{"qmgr moves it to active", func(t *testing.T) { renameFile(t, e.path("incoming/"+id), e.path("active/"+id)) },
			id, "active", eventRow{event: index.EventMoved, from: "incoming", to: "active"}},
		{"a delivery agent writes in place", func(t *testing.T) { rewriteFirstByte(t, e.path("active/"+id)) },
			id, "active", eventRow{event: index.EventChanged, from: "active", to: "active"}},
		{"deferred into a new hash directory", func(t *testing.T) {
			if err := os.Mkdir(e.path("deferred/Q"), 0o700); err != nil {
				t.Fatal(err)
			}
			renameFile(t, e.path("active/"+id), e.path("deferred/Q/"+id))
		}, id, "deferred", eventRow{event: index.EventMoved, from: "active", to: "deferred"}},
		{"a new delay reason", func(t *testing.T) {
			log := "\nrecipient=x@remote.test\noffset=1\nstatus=4.4.1\naction=delayed\nreason=connect refused\n\n"
			if err := os.MkdirAll(e.path("defer/Q"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(e.path("defer/Q/"+id), []byte(log), 0o600); err != nil {
				t.Fatal(err)
			}
		}, id, "deferred", eventRow{event: index.EventChanged, from: "deferred", to: "deferred"}},
		{"next retry time touched", func(t *testing.T) {
			later := time.Now().Add(3 * time.Hour)
			if err := os.Chtimes(e.path("deferred/Q/"+id), later, later); err != nil {
				t.Fatal(err)
			}
		}, id, "deferred", eventRow{event: index.EventChanged, from: "deferred", to: "deferred"}},
		{"postsuper -h", func(t *testing.T) { renameFile(t, e.path("deferred/Q/"+id), e.path("hold/"+id)) },
			id, "hold", eventRow{event: index.EventMoved, from: "deferred", to: "hold"}},
		{"postsuper -e", func(t *testing.T) { chmodFile(t, e.path("hold/"+id), 0o710) },
			id, "hold", eventRow{event: index.EventChanged, from: "hold", to: "hold"}},
		{"postsuper -d", func(t *testing.T) {
			removeFile(t, e.path("defer/Q/"+id))
			removeFile(t, e.path("hold/"+id))
		}, id, "", eventRow{event: index.EventLeft, from: "hold"}},
		{"postdrop: 0644 then 0744", func(t *testing.T) { e.write(t, "maildrop/"+dropped, 0o644, 0o744) },
			dropped, "maildrop", eventRow{event: index.EventArrived, to: "maildrop"}},
		{"pickup removes it", func(t *testing.T) { removeFile(t, e.path("maildrop/"+dropped)) },
			dropped, "", eventRow{event: index.EventLeft, from: "maildrop"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do(t)
			untilTrue(t, time.Second, func() (bool, string) {
				q, ev := queueOf(t, e.ix.DB(), s.id), lastEvent(t, e.ix.DB(), s.id)
				ok := q == s.queue && ev.event == s.event.event && ev.from == s.event.from && ev.to == s.event.to
				return ok, fmt.Sprintf("index has %s in %q with last event %+v; want %q and %+v", s.id, q, ev, s.queue, s.event)
			})
		})
	}
	ev := lastEvent(t, e.ix.DB(), id)
	if !ev.sender.Valid || !ev.size.Valid || ev.size.Int64 <= 0 {
		t.Errorf("left event without the sender and size of the row that left: %+v", ev)
	}
	untilTrue(t, time.Second, matchesSpool(t, e))
}

func chmodFile(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func renameFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// rewriteFirstByte writes a file's first byte over itself, as a delivery agent marks a
// recipient done: same size, new mtime.
func rewriteFirstByte(t *testing.T, path string) {
	t.Helper()
	time.Sleep(10 * time.Millisecond) // a coarse clock must still see a new mtime
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
}

// TestWatchStatus checks what .status shows.
func TestWatchStatus(t *testing.T) {
	e := newWatchEnv(t, "", index.WatchOptions{Reconcile: time.Hour})
	e.write(t, "incoming/STATUS1", 0o600, 0o700)
	untilTrue(t, time.Second, func() (bool, string) {
		q := queueOf(t, e.ix.DB(), "STATUS1")
		return q == "incoming", "STATUS1 not indexed, in " + q
	})
	status, err := e.w.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"spool:", e.dir, "in memory", "messages:", "incoming 1", "deferred 15", "hold 1",
		"watcher:", "inotify on", "last change:", "events:", "1 rows"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	if st := e.w.State(); st.Dirs < 10 {
		t.Errorf("watching %d directories; the sample spool has more", st.Dirs)
	}
}

// TestWatchReadersNeverFail runs queries on another connection of an in-memory index, as the
// REPL does, while the watcher writes a stream of changes: no query may fail. (How long they
// wait is logged; latency is measured by bench/latency, not asserted here.)
func TestWatchReadersNeverFail(t *testing.T) {
	e := newWatchEnv(t, "", index.WatchOptions{Reconcile: 200 * time.Millisecond})
	conn, err := e.ix.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stopChurn := churn(e)
	defer stopChurn()
	var slowest time.Duration
	queries := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); queries++ {
		start := time.Now()
		var n int
		err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM messages m JOIN recipients r USING (queue_id)`).Scan(&n)
		if err != nil {
			t.Fatalf("query %d failed while the watcher writes: %v", queries, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("%d queries during %d file changes; slowest %v; watcher %+v", queries, stopChurn(), slowest, e.w.State())
	untilTrue(t, 2*time.Second, matchesSpool(t, e))
}

// churn creates and deletes complete files in incoming/ until the returned function is called;
// that function stops it, waits for it, and returns how many changes it made (it may be
// called again).
func churn(e *watchEnv) func() int {
	stop, done := make(chan struct{}), make(chan int, 1)
	go func() {
		n := 0
		defer func() { done <- n }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := e.path(fmt.Sprintf("incoming/CHURN%d", i%50))
			if i%100 < 50 {
				if os.WriteFile(p, e.sample, 0o600) == nil {
					os.Chmod(p, 0o700)
				}
			} else {
				os.Remove(p)
			}
			n++
			time.Sleep(time.Millisecond)
		}
	}()
	var once sync.Once
	n := 0
	return func() int {
		once.Do(func() {
			close(stop)
			n = <-done
		})
		return n
	}
}
