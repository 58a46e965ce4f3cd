package index

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/mqsql/mqsql"
)

// Defaults of WatchOptions.
const (
	DefaultReconcile = 5 * time.Minute
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultDebounce is how long a burst of events must stay quiet before it is applied, and
	// DefaultMaxDelay how long a constant stream may postpone that: together they bound how
	// stale a query can be while mail is moving.
	DefaultDebounce = 25 * time.Millisecond
	DefaultMaxDelay = 50 * time.Millisecond
	// FallbackPoll is the poll interval used when watching was wanted but is impossible.
	FallbackPoll = 2 * time.Second
)

// ErrWatcherClosed is returned by a Watcher's methods after Close.
var ErrWatcherClosed = errors.New("index: watcher closed")

// WatchOptions configures a Watcher; the zero value watches with inotify and uses the defaults.
type WatchOptions struct {
	// Poll, when positive, polls the spool at this interval instead of watching it (NFS, or
	// no inotify).
	Poll time.Duration
	// Reconcile is the interval of the full pass that catches anything the watcher missed.
	Reconcile time.Duration
	// Retention is how long events rows are kept.
	Retention time.Duration
	// Debounce and MaxDelay: see DefaultDebounce.
	Debounce, MaxDelay time.Duration
	// NewSource returns the event source; nil means NewFSNotifySource. Tests use it to lose
	// events on purpose.
	NewSource func() (EventSource, error)
	// Logf, when set, receives what an operator should hear about: a fallback to polling, an
	// overflow, a reconcile that found the index behind, an error.
	Logf func(format string, args ...any)
}

func (o WatchOptions) withDefaults() WatchOptions {
	if o.Reconcile <= 0 {
		o.Reconcile = DefaultReconcile
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.NewSource == nil {
		o.NewSource = NewFSNotifySource
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Watcher keeps an index equal to the spool while it runs: it watches every queue directory
// and hash subdirectory (and the defer and bounce logs), re-reads each queue ID that an event
// names after a short debounce, records the change in the events table, rescans everything
// after an inotify overflow, reconciles periodically, and polls when it cannot watch. It only
// reads the spool. Its methods are safe for concurrent use.
type Watcher struct {
	ix   *Index
	sp   mqsql.Spool
	opt  WatchOptions
	root string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{} // capacity 1: "there is work"

	mu       sync.Mutex
	src      EventSource // nil when polling
	pending  map[string]*dirtyID
	newDirs  map[string]bool // created entries that may be hash directories
	rescan   string          // why a full pass is wanted; "" when none is
	waiters  []chan error    // Rescan calls waiting for the next full pass
	retrying bool
	closed   bool
	st       WatchState
}

// WatchState is a snapshot of a Watcher, for .status and logs.
type WatchState struct {
	Mode     string // "inotify" or "poll"
	Fallback string // why it polls although watching was wanted; "" otherwise
	Dirs     int    // directories watched

	Poll, Reconcile, Retention time.Duration
	Debounce, MaxDelay         time.Duration

	Started    time.Time
	LastChange time.Time // when an events row was last written
	Changes    int64     // events rows written

	LastRescan       time.Time
	LastRescanReason string
	LastRescanTook   time.Duration
	Rescans          int
	Overflows        int

	LastError   string
	LastErrorAt time.Time

	// Unreadable counts the places (directories, files) the watcher's passes could not see
	// for a reason other than their absence (too many open files, an I/O error, permission):
	// their rows were kept as they were, and the pass was tried again.
	Unreadable int64
	// Stale says why the index may differ from the spool now: the last pass could not see
	// part of it. It is "" once a full pass saw everything; StaleSince is when it was set.
	Stale      string
	StaleSince time.Time
}

// Watch starts keeping ix equal to the spool sp and returns once the index matches it. An
// index that never held anything is loaded (Update without events: none for mail already
// queued); otherwise the first pass is a full pass, whose differences become events. Watches are added
// before that pass, so nothing falls between the pass and the watching. Close stops it; so
// does cancelling ctx.
func (ix *Index) Watch(ctx context.Context, sp mqsql.Spool, opt WatchOptions) (*Watcher, error) {
	opt = opt.withDefaults()
	w := &Watcher{
		ix:      ix,
		sp:      sp,
		opt:     opt,
		root:    filepath.Clean(sp.Dir()),
		wake:    make(chan struct{}, 1),
		pending: map[string]*dirtyID{},
		newDirs: map[string]bool{},
	}
	w.ctx, w.cancel = context.WithCancel(ctx)
	w.st = WatchState{Mode: "inotify", Poll: opt.Poll, Reconcile: opt.Reconcile, Retention: opt.Retention,
		Debounce: opt.Debounce, MaxDelay: opt.MaxDelay, Started: ix.Now()}
	w.startSource()
	if err := w.initialPass(ctx); err != nil {
		w.Close()
		return nil, err
	}
	w.wg.Add(1)
	go w.work()
	if ix.path != "" {
		w.wg.Add(1)
		go w.checkpoints()
	}
	return w, nil
}

// startSource starts watching, or polling when asked to or when watching is impossible. The
// event loop runs from here on, so events during the first pass are kept, not lost.
func (w *Watcher) startSource() {
	if w.opt.Poll > 0 {
		w.st.Mode = "poll"
		return
	}
	src, err := w.opt.NewSource()
	if err != nil {
		w.fallBack(err)
		return
	}
	w.src = src
	w.wg.Add(1)
	go w.loop(src)
	if err := w.watchTree(); err != nil {
		w.fallBack(err)
	}
}

// initialPass brings the index up to date before the watcher reports ready.
func (w *Watcher) initialPass(ctx context.Context) error {
	if err := w.ix.ensureIndexes(ctx); err != nil {
		return err
	}
	loaded, err := w.ix.loaded(ctx)
	if err != nil {
		return err
	}
	if !loaded {
		if _, err := w.ix.Update(ctx, w.sp, Whole(false)); err != nil && !w.unseen(err) {
			return fmt.Errorf("load index: %w", err)
		}
		return nil
	}
	st, err := w.ix.Update(ctx, w.sp, Whole(true))
	if err != nil && !w.unseen(err) {
		return fmt.Errorf("reconcile index: %w", err)
	}
	w.noteRescan("start", st)
	return nil
}

// ensureIndexes creates the secondary indexes, which refreshes rely on, in case the index was
// never synced.
func (ix *Index) ensureIndexes(ctx context.Context) error {
	_, indexes := schemaParts()
	if _, err := ix.db.ExecContext(ctx, indexes); err != nil {
		return fmt.Errorf("create indexes: %w", err)
	}
	return nil
}

// Close stops the watcher and waits for it. The index stays open.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	src := w.src
	w.mu.Unlock()
	w.cancel()
	var err error
	if src != nil {
		err = src.Close()
	}
	w.wg.Wait()
	w.failWaiters(ErrWatcherClosed)
	return err
}

// State returns a snapshot of what the watcher is doing.
func (w *Watcher) State() WatchState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// Rescan forces a full pass and returns when the index matches the spool (shell.Live).
func (w *Watcher) Rescan(ctx context.Context) error {
	c := make(chan error, 1)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrWatcherClosed
	}
	w.waiters = append(w.waiters, c)
	if w.rescan == "" {
		w.rescan = "requested"
	}
	w.mu.Unlock()
	w.signal()
	select {
	case err := <-c:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signal tells the worker there is work, without ever blocking.
func (w *Watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// requestRescan asks the worker for a full pass.
func (w *Watcher) requestRescan(reason string) {
	w.mu.Lock()
	if w.rescan == "" {
		w.rescan = reason
	}
	w.mu.Unlock()
	w.signal()
}

func (w *Watcher) failWaiters(err error) {
	w.mu.Lock()
	waiters := w.waiters
	w.waiters = nil
	w.mu.Unlock()
	for _, c := range waiters {
		c <- err
	}
}

// fallBack switches to polling because watching failed: the index must stay current on any
// file system, only less promptly.
func (w *Watcher) fallBack(cause error) {
	w.mu.Lock()
	src := w.src
	w.src = nil
	w.st.Mode = "poll"
	w.st.Fallback = cause.Error()
	if w.st.Poll <= 0 {
		w.st.Poll = FallbackPoll
	}
	poll := w.st.Poll
	w.mu.Unlock()
	if src != nil {
		src.Close()
	}
	w.opt.Logf("cannot watch the spool (%v); polling every %v instead", cause, poll)
}
