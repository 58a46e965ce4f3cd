package index_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/mqsql/mqsql/index"
)

// lossySource is a real inotify source that loses events on demand and lets a test inject
// errors, so the recovery paths run deterministically.
type lossySource struct {
	real   index.EventSource
	events chan fsnotify.Event
	errs   chan error
	done   chan struct{}
	wg     sync.WaitGroup
	drop   atomic.Bool
	// dropUnder, when set, drops only the events of paths that start with it.
	dropUnder atomic.Value
	adds      atomic.Int64
	once      sync.Once
}

func newLossySource() (*lossySource, error) {
	real, err := index.NewFSNotifySource()
	if err != nil {
		return nil, err
	}
	s := &lossySource{real: real, events: make(chan fsnotify.Event), errs: make(chan error), done: make(chan struct{})}
	s.wg.Add(1)
	go s.forward()
	return s, nil
}

func (s *lossySource) forward() {
	defer s.wg.Done()
	defer close(s.events)
	defer close(s.errs)
	for {
		select {
		case ev, ok := <-s.real.Events():
			if !ok {
				return
			}
			if under, _ := s.dropUnder.Load().(string); s.drop.Load() || under != "" && strings.HasPrefix(ev.Name, under) {
				continue
			}
			select {
			case s.events <- ev:
			case <-s.done:
				return
			}
		case err, ok := <-s.real.Errors():
			if !ok {
				return
			}
			select {
			case s.errs <- err:
			case <-s.done:
				return
			}
		}
	}
}

// inject delivers err to the watcher as if inotify had reported it.
func (s *lossySource) inject(err error) { s.errs <- err }

// injectEvent delivers ev to the watcher as if inotify had reported it.
func (s *lossySource) injectEvent(ev fsnotify.Event) { s.events <- ev }

func (s *lossySource) Add(dir string) error          { s.adds.Add(1); return s.real.Add(dir) }
func (s *lossySource) Events() <-chan fsnotify.Event { return s.events }
func (s *lossySource) Errors() <-chan error          { return s.errs }
func (s *lossySource) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.real.Close()
		s.wg.Wait()
	})
	return err
}

// changeSampleSpool changes the sample spool in every way the tests care about: an arrival, a
// move, a departure and a new delay reason.
func changeSampleSpool(t *testing.T, e *watchEnv) {
	t.Helper()
	e.write(t, "incoming/LOST1ARRIVAL", 0o600, 0o700)
	renameFile(t, e.path("hold/4jc86b0jCBz5bb9"), e.path("deferred/1/4jc86b0jCBz5bb9"))
	removeFile(t, e.path("deferred/C/4jc7Q05sr6zdZKw"))
	removeFile(t, e.path("defer/C/4jc7Q05sr6zdZKw"))
	f, err := os.OpenFile(e.path("defer/3/4jc7PP1W6fzdXSJ"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\nrecipient=r2@remote.test\nstatus=4.4.1\nreason=new reason\n\n"); err != nil {
		t.Fatal(err)
	}
}

// TestWatchRecovers loses every event of a batch of changes and checks that each recovery
// path still brings the index level with the spool, and records the changes as events.
func TestWatchRecovers(t *testing.T) {
	tests := []struct {
		name      string
		reconcile time.Duration
		recover   func(t *testing.T, e *watchEnv, src *lossySource)
		within    time.Duration
	}{
		{"inotify overflow triggers a full rescan", time.Hour, func(t *testing.T, e *watchEnv, src *lossySource) {
			src.inject(fsnotify.ErrEventOverflow)
		}, time.Second},
		{"periodic reconcile catches what was missed", 300 * time.Millisecond, func(*testing.T, *watchEnv, *lossySource) {}, 2 * time.Second},
		{"rescan on request", time.Hour, func(t *testing.T, e *watchEnv, _ *lossySource) {
			if err := e.w.Rescan(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src *lossySource
			opt := index.WatchOptions{Reconcile: tt.reconcile, NewSource: func() (index.EventSource, error) {
				var err error
				src, err = newLossySource()
				return src, err
			}}
			e := newWatchEnv(t, filepath.Join(t.TempDir(), "index.db"), opt)
			src.drop.Store(true)
			changeSampleSpool(t, e)
			time.Sleep(300 * time.Millisecond) // long enough for lost events to have been applied
			if ok, _ := matchesSpool(t, e)(); ok && tt.reconcile == time.Hour {
				t.Fatal("the index followed events that were all dropped: the test proves nothing")
			}
			src.drop.Store(false)
			tt.recover(t, e, src)
			untilTrue(t, max(tt.within, 10*time.Millisecond), matchesSpool(t, e))
			if ev := lastEvent(t, e.ix.DB(), "LOST1ARRIVAL"); ev.event != index.EventArrived {
				t.Errorf("arrival found by the rescan: last event %+v, want arrived", ev)
			}
			if ev := lastEvent(t, e.ix.DB(), "4jc7Q05sr6zdZKw"); ev.event != index.EventLeft || ev.from != "deferred" {
				t.Errorf("departure found by the rescan: last event %+v, want left from deferred", ev)
			}
			if ev := lastEvent(t, e.ix.DB(), "4jc86b0jCBz5bb9"); ev.event != index.EventMoved {
				t.Errorf("move found by the rescan: last event %+v, want moved", ev)
			}
			st := e.w.State()
			if tt.name == "inotify overflow triggers a full rescan" && (st.Overflows != 1 || st.LastRescanReason != "overflow") {
				t.Errorf("state after overflow: %+v", st)
			}
		})
	}
}

// TestWatchPolls checks --poll: no inotify at all, the index still follows.
func TestWatchPolls(t *testing.T) {
	e := newWatchEnv(t, "", index.WatchOptions{Poll: 100 * time.Millisecond, Reconcile: time.Hour,
		NewSource: func() (index.EventSource, error) { return nil, errors.New("polling must not watch") }})
	if st := e.w.State(); st.Mode != "poll" || st.Fallback != "" {
		t.Fatalf("state %+v, want polling as asked", st)
	}
	changeSampleSpool(t, e)
	untilTrue(t, 2*time.Second, matchesSpool(t, e))
}

// failingSource is an event source whose watches cannot be added, like inotify when
// max_user_watches is exhausted.
type failingSource struct {
	events chan fsnotify.Event
	errs   chan error
	once   sync.Once
}

func (s *failingSource) Add(string) error              { return fmt.Errorf("add watch: %w", syscall.ENOSPC) }
func (s *failingSource) Events() <-chan fsnotify.Event { return s.events }
func (s *failingSource) Errors() <-chan error          { return s.errs }
func (s *failingSource) Close() error {
	s.once.Do(func() { close(s.events); close(s.errs) })
	return nil
}

// TestWatchFallsBackToPolling checks that the watcher polls when it cannot watch.
func TestWatchFallsBackToPolling(t *testing.T) {
	tests := []struct {
		name   string
		source func() (index.EventSource, error)
	}{
		{"no inotify", func() (index.EventSource, error) { return nil, errors.New("inotify_init1: too many open files") }},
		{"watches cannot be added", func() (index.EventSource, error) {
			return &failingSource{events: make(chan fsnotify.Event), errs: make(chan error)}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWatchEnv(t, "", index.WatchOptions{Reconcile: time.Hour, NewSource: tt.source})
			st := e.w.State()
			if st.Mode != "poll" || st.Fallback == "" || st.Poll != index.FallbackPoll {
				t.Fatalf("state %+v, want a fallback to polling every %v", st, index.FallbackPoll)
			}
			changeSampleSpool(t, e)
			untilTrue(t, index.FallbackPoll+2*time.Second, matchesSpool(t, e))
			status, err := e.w.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(status, "polling every") || !strings.Contains(status, "cannot watch") {
				t.Errorf("status does not say it polls and why:\n%s", status)
			}
		})
	}
}

// TestWatchMoveIntoUnwatchedDir renames a message from active/ into a hash directory whose
// events are lost (its creation included, so it is never watched or scanned). The watcher
// must find the message in its new queue and record a move, never a "left": when the
// rename's other half is the only event, and when a stale event about the old place (the
// rename that brought it into active/) is applied first and the rename's events never come.
//
// The message reaches active/ as in Postfix: cleanup writes and completes it in incoming/,
// qmgr renames it. Written in active/ itself, a refresh between the write and the chmod
// would rightly find no message there (an incomplete file is none) and record that it
// came and went, a "left" this test would blame on the move.
func TestWatchMoveIntoUnwatchedDir(t *testing.T) {
	tests := []struct {
		name, id string
		lose     func(e *watchEnv, src *lossySource, dir string)
		after    func(e *watchEnv, src *lossySource, id string)
	}{
		{"only the rename's other half is seen", "Z1UNNAMED",
			func(e *watchEnv, src *lossySource, dir string) { src.dropUnder.Store(e.path(dir)) },
			func(*watchEnv, *lossySource, string) {}},
		{"a stale event for the old place comes first", "Y1STALE",
			func(_ *watchEnv, src *lossySource, _ string) { src.drop.Store(true) },
			func(e *watchEnv, src *lossySource, id string) {
				src.injectEvent(fsnotify.Event{Name: e.path("active/" + id), Op: fsnotify.Create})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src *lossySource
			e := newWatchEnv(t, "", index.WatchOptions{Reconcile: time.Hour, NewSource: func() (index.EventSource, error) {
				var err error
				src, err = newLossySource()
				return src, err
			}})
			id := tt.id
			e.write(t, "incoming/"+id, 0o600, 0o700)
			renameFile(t, e.path("incoming/"+id), e.path("active/"+id))
			untilTrue(t, time.Second, func() (bool, string) {
				q := queueOf(t, e.ix.DB(), id)
				return q == "active", "not indexed in active: " + q
			})
			dir := "deferred/" + id[:1]
			tt.lose(e, src, dir)
			if err := os.Mkdir(e.path(dir), 0o700); err != nil {
				t.Fatal(err)
			}
			renameFile(t, e.path("active/"+id), e.path(dir+"/"+id))
			tt.after(e, src, id)
			untilTrue(t, time.Second, func() (bool, string) {
				q, ev := queueOf(t, e.ix.DB(), id), lastEvent(t, e.ix.DB(), id)
				return q == "deferred" && ev.event == index.EventMoved, fmt.Sprintf("index has %s in %q, last event %+v", id, q, ev)
			})
			if n := countEvents(t, e.ix.DB(), id, index.EventLeft); n != 0 {
				t.Errorf("%d left events for a message that only moved", n)
			}
		})
	}
}

func countEvents(t *testing.T, db *sql.DB, id, event string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events WHERE queue_id = ? AND event = ?`, id, event).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWatchQueueDirRecreated removes a whole queue directory under a running watcher, then
// creates it again and fills it: the index must drop what went with the directory, find what
// is put into the new one, and keep following it (its watch must be added again).
func TestWatchQueueDirRecreated(t *testing.T) {
	e := newWatchEnv(t, "", index.WatchOptions{Reconcile: time.Hour})
	untilTrue(t, time.Second, matchesSpool(t, e))
	if q := queueOf(t, e.ix.DB(), "4jc7Q05sr6zdZKw"); q != "deferred" {
		t.Fatalf("sample message in %q, want deferred", q)
	}
	if err := os.RemoveAll(e.path("deferred")); err != nil {
		t.Fatal(err)
	}
	untilTrue(t, 2*time.Second, matchesSpool(t, e))
	if q := queueOf(t, e.ix.DB(), "4jc7Q05sr6zdZKw"); q != "" {
		t.Fatalf("message of the removed directory still indexed in %q", q)
	}
	if err := os.Mkdir(e.path("deferred"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.write(t, "deferred/R/R1RECREATED", 0o600, 0o700)
	untilTrue(t, 2*time.Second, matchesSpool(t, e))
	e.write(t, "deferred/S/S1AFTERWARDS", 0o600, 0o700) // only a watch on the new directory sees this
	untilTrue(t, 2*time.Second, matchesSpool(t, e))
	if q := queueOf(t, e.ix.DB(), "S1AFTERWARDS"); q != "deferred" {
		t.Errorf("message written into the recreated directory indexed in %q, want deferred", q)
	}
	if st := e.w.State(); st.Mode != "inotify" || st.LastError != "" {
		t.Errorf("watcher after the directory came back: %+v", st)
	}
}
