package index

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// loop drains the event source. It does no slow work: each event only marks a queue ID dirty
// (in a map, under the mutex), and the debounce timer wakes the worker, which does the reading
// and writing. Events and Errors are drained in one select, as fsnotify requires.
func (w *Watcher) loop(src EventSource) {
	defer w.wg.Done()
	d := newDebouncer(w.opt.Debounce, w.opt.MaxDelay)
	defer d.timer.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case ev, ok := <-src.Events():
			if !ok {
				return
			}
			now := time.Now()
			if w.note(ev, now) {
				d.event(now)
			}
		case err, ok := <-src.Errors():
			if !ok {
				return
			}
			w.sourceError(err)
		case <-d.timer.C:
			if d.fire(time.Now()) {
				w.signal()
			}
		}
	}
}

// sourceError handles an error from the event source. An overflow means events were lost, so
// only a full pass can tell what changed.
func (w *Watcher) sourceError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.mu.Lock()
		w.st.Overflows++
		w.mu.Unlock()
		w.opt.Logf("inotify queue overflowed, events were lost: rescanning the spool")
		w.requestRescan("overflow")
		return
	}
	w.noteError(err)
}

// note records one event: the queue ID it names becomes dirty, with the event's path as a
// place to look for it. It reports whether the event concerned the spool's queues.
func (w *Watcher) note(ev fsnotify.Event, now time.Time) bool {
	rel, ok := strings.CutPrefix(ev.Name, w.root+"/")
	if !ok {
		return false
	}
	c, ok := w.sp.Classify(rel)
	if !ok {
		return false
	}
	if c.Top {
		switch {
		case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
			w.requestRescan(rel + " was removed or renamed")
		case ev.Has(fsnotify.Create):
			w.requestRescan(rel + " was created") // the full pass watches it again
		}
		return false
	}
	if c.MaybeDir && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
		// A directory of the driver's layout may have gone, or been replaced (by a link,
		// which is no part of the spool): only a full pass can tell what went with it, and
		// its name is no queue ID, which would record it as mail that left.
		w.requestRescan(rel + " was removed or renamed")
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if ev.Has(fsnotify.Create) && c.MaybeDir {
		w.newDirs[rel] = true // maybe a new hash directory: the worker checks
		return true
	}
	if c.ID != "" {
		d := markDirty(w.pending, c.ID, c.Hint, now)
		d.anywhere = d.anywhere || ev.Has(fsnotify.Rename) // it may be where no event says
	}
	return true
}

// markDirty adds id to a dirty set, keeping the time it was first noticed, and returns its
// entry.
func markDirty(set map[string]*dirtyID, id, hint string, now time.Time) *dirtyID {
	d := set[id]
	if d == nil {
		d = &dirtyID{since: now}
		set[id] = d
	}
	if hint != "" && !slices.Contains(d.hints, hint) {
		d.hints = append(d.hints, hint)
	}
	return d
}

// debouncer decides when a burst of events is applied: once no event came for quiet, or at
// the latest max after the burst's first event, so a constant stream is still applied.
type debouncer struct {
	quiet, max  time.Duration
	timer       *time.Timer
	armed       bool
	first, last time.Time
}

func newDebouncer(quiet, max time.Duration) *debouncer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &debouncer{quiet: quiet, max: max, timer: t}
}

// event notes an event at now, arming the timer for a new burst. It does not reset a running
// timer: that would cost a timer operation per event during a storm.
func (d *debouncer) event(now time.Time) {
	d.last = now
	if !d.armed {
		d.armed, d.first = true, now
		d.timer.Reset(d.quiet)
	}
}

// fire is called when the timer expires; it reports whether the burst is due now, and
// otherwise re-arms the timer for when it will be.
func (d *debouncer) fire(now time.Time) bool {
	wait := min(d.quiet-now.Sub(d.last), d.max-now.Sub(d.first))
	if wait > 0 {
		d.timer.Reset(wait)
		return false
	}
	d.armed = false
	return true
}
