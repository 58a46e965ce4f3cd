package index

import (
	"errors"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool"
)

// logDirs are the per-message log directories whose changes change a message: a new delay
// reason in defer/, a bounce being prepared in bounce/.
var logDirs = []string{"defer", "bounce"}

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
	top, rest, nested := cutFirst(rel)
	if !watchedTop(top) {
		return false
	}
	if !nested {
		switch {
		case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
			w.requestRescan(top + " was removed or renamed")
		case ev.Has(fsnotify.Create):
			w.requestRescan(top + " was created") // the full pass watches it again
		}
		return false
	}
	name := path.Base(rest)
	w.mu.Lock()
	defer w.mu.Unlock()
	if ev.Has(fsnotify.Create) && len(name) == 1 {
		w.newDirs[rel] = true // maybe a new hash directory: the worker checks
	}
	id, hint, ok := eventID(top, rel, name)
	if ok {
		d := markDirty(w.pending, id, hint, now)
		d.anywhere = d.anywhere || ev.Has(fsnotify.Rename) // it may be where no event says
	}
	return true
}

// eventID returns the queue ID an event in directory tree top is about, and the path to look
// at for it when the tree is a queue. Names Postfix would not accept as queue IDs (cleanup's
// temporary files) are no message, except in corrupt/, where any file is a row.
func eventID(top, rel, name string) (id, hint string, ok bool) {
	q := mqsql.Queue(top)
	switch {
	case q == mqsql.Corrupt:
		return name, rel, true
	case !spool.ValidQueueID(name):
		return "", "", false
	case q.Valid():
		return name, rel, true
	default: // a log directory
		return name, "", true
	}
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

// watchedTop reports whether dir is a top-level spool directory the watcher watches.
func watchedTop(dir string) bool {
	return mqsql.Queue(dir).Valid() || slices.Contains(logDirs, dir)
}

// cutFirst splits a slash-separated relative path at its first slash.
func cutFirst(rel string) (first, rest string, found bool) {
	return strings.Cut(rel, "/")
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
