package index

import (
	"time"

	"github.com/mqsql/mqsql"
)

// pruneEvery is how often the worker deletes events rows past the retention period.
const pruneEvery = time.Minute

// retryDelay is how long the worker waits before a full pass after a failed update (a busy
// or full disk): retrying at once would spin.
const retryDelay = time.Second

// work is the watcher's only writer: it applies dirty queue IDs when the event loop says a
// burst is due, runs full passes (overflow, the reconcile interval, polling, Rescan), looks
// again at active mail where active is a lock, and prunes old events.
func (w *Watcher) work() {
	defer w.wg.Done()
	reconcile := time.NewTicker(w.opt.Reconcile)
	defer reconcile.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	var poll *time.Ticker
	var pollC <-chan time.Time
	defer func() {
		if poll != nil {
			poll.Stop()
		}
	}()
	relook := time.NewTimer(relookEvery)
	relook.Stop()
	defer relook.Stop()
	relookArmed, locks := false, w.locksActive()
	w.prune()
	w.signal() // events noted during the first pass
	for {
		if pollC == nil {
			if st := w.State(); st.Mode == "poll" {
				poll = time.NewTicker(st.Poll)
				pollC = poll.C
			}
		}
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-reconcile.C:
			w.requestRescan("periodic reconcile")
		case <-pollC:
			w.requestRescan("poll")
		case <-prune.C:
			w.prune()
		case <-relook.C:
			relookArmed = false
			w.markActiveDirty()
		}
		w.runPending()
		if locks && !relookArmed && w.anyActive() {
			relook.Reset(relookEvery)
			relookArmed = true
		}
	}
}

// pendingWork is what the worker takes over from the event loop in one go.
type pendingWork struct {
	batch   map[string]*dirtyID
	dirs    map[string]bool
	rescan  string
	waiters []chan error
}

func (w *Watcher) take() pendingWork {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := pendingWork{batch: w.pending, dirs: w.newDirs, rescan: w.rescan, waiters: w.waiters}
	w.pending, w.newDirs, w.rescan, w.waiters = map[string]*dirtyID{}, map[string]bool{}, "", nil
	return p
}

// runPending does what has accumulated: a full pass when one is wanted (it covers the dirty
// IDs too), else the new directories and the dirty IDs.
func (w *Watcher) runPending() {
	p := w.take()
	var err error
	if p.rescan != "" {
		err = w.fullPass(p.rescan)
	} else {
		w.watchNewDirs(p.dirs, p.batch)
		if len(p.batch) > 0 {
			var st Stats
			st, err = w.ix.Update(w.ctx, w.sp, Scope{ids: p.batch})
			w.noteChanges(st.Changes)
		}
	}
	for _, c := range p.waiters {
		c <- err
	}
	switch {
	case w.ctx.Err() != nil:
	case err == nil && p.rescan != "":
		w.current()
	case err != nil && !w.unseen(err):
		w.noteError(err)
		w.retryLater(retryDelay)
	}
}

// fullPass re-adds the watches (a directory may have been recreated) and reconciles.
func (w *Watcher) fullPass(reason string) error {
	if w.watching() {
		if err := w.watchTree(); err != nil {
			w.fallBack(err)
		}
	}
	st, err := w.ix.Update(w.ctx, w.sp, Whole(true))
	w.noteChanges(st.Changes)
	w.noteRescan(reason, st)
	return err
}

func (w *Watcher) watching() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.src != nil
}

// noteRescan records a full pass, and tells the operator when it found the index behind,
// which means the watcher missed something (polling finds differences by design).
func (w *Watcher) noteRescan(reason string, st Stats) {
	w.mu.Lock()
	w.st.LastRescan = w.ix.Now()
	w.st.LastRescanReason = reason
	w.st.LastRescanTook = st.Elapsed
	w.st.Rescans++
	w.mu.Unlock()
	if st.Dirty > 0 && reason != "poll" {
		w.opt.Logf("%s: re-read %d queue IDs that differed from the index (events in flight, or missed) in %v; %d events; %d files in the spool",
			reason, st.Dirty, st.Elapsed.Round(time.Millisecond), st.Changes, st.Files)
	}
}

func (w *Watcher) noteChanges(n int) {
	if n == 0 {
		return
	}
	w.mu.Lock()
	w.st.LastChange = w.ix.Now()
	w.st.Changes += int64(n)
	w.mu.Unlock()
}

func (w *Watcher) noteError(err error) {
	w.mu.Lock()
	w.st.LastError = err.Error()
	w.st.LastErrorAt = w.ix.Now()
	w.mu.Unlock()
	w.opt.Logf("error: %v", err)
}

// unseenRetryDelay is how long the worker waits before a full pass after one that could not see
// part of the spool: what stops it (descriptors exhausted by idle connections, a failing disk)
// rarely ends within a second, and a full pass over a big queue is seconds of work.
const unseenRetryDelay = 10 * time.Second

// unseen handles err from a pass when it holds only places the pass could not see
// (*mqsql.UnreadableError), and reports whether it did: it warns, counts them, marks the index
// not current and schedules a full pass. Their rows were kept.
func (w *Watcher) unseen(err error) bool {
	if !mqsql.OnlyUnreadable(err) {
		return false
	}
	places := mqsql.UnreadablePlaces(err)
	w.mu.Lock()
	w.st.Unreadable += int64(len(places))
	if w.st.Stale == "" {
		w.st.StaleSince = w.ix.Now()
	}
	w.st.Stale = err.Error()
	w.mu.Unlock()
	w.opt.Logf("warning: the index may not be current: %d places of the spool could not be read, their messages are kept as they were and read again in %v: %v",
		len(places), unseenRetryDelay, err)
	w.retryLater(unseenRetryDelay)
	return true
}

// current records that a full pass saw the whole spool: the index is current again.
func (w *Watcher) current() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.Stale, w.st.StaleSince = "", time.Time{}
}

// retryLater schedules one full pass after delay; further failures meanwhile share it.
func (w *Watcher) retryLater(delay time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.retrying {
		return
	}
	w.retrying = true
	time.AfterFunc(delay, func() {
		w.mu.Lock()
		w.retrying = false
		w.mu.Unlock()
		w.requestRescan("retry after an error")
	})
}

// prune deletes events rows older than the retention period.
func (w *Watcher) prune() {
	n, err := w.ix.PruneEvents(w.ctx, w.ix.Now().Add(-w.opt.Retention))
	if err != nil {
		if w.ctx.Err() == nil {
			w.noteError(err)
		}
		return
	}
	if n > 0 {
		w.opt.Logf("pruned %d events older than %v", n, w.opt.Retention)
	}
}
