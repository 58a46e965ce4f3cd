package index

import (
	"fmt"

	"github.com/fsnotify/fsnotify"
)

// EventSource delivers file events for the directories added to it. The watcher uses inotify
// through fsnotify; tests substitute a source that drops events or reports an overflow, so the
// paths that recover from lost events are exercised deterministically.
type EventSource interface {
	// Add starts watching one directory (not recursively).
	Add(dir string) error
	// Events and Errors are drained together, in one select: fsnotify blocks on either.
	Events() <-chan fsnotify.Event
	Errors() <-chan error
	// Close stops the source; afterwards both channels are closed.
	Close() error
}

// eventBuffer is how many events fsnotify may hold for the watcher's loop, on top of the
// kernel's queue: a scheduling hiccup on a busy machine must not overflow the kernel queue
// during a storm.
const eventBuffer = 8192

// NewFSNotifySource returns an EventSource backed by inotify, the watcher's default.
func NewFSNotifySource() (EventSource, error) {
	w, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		return nil, fmt.Errorf("start inotify: %w", err)
	}
	return fsnotifySource{w}, nil
}

type fsnotifySource struct{ w *fsnotify.Watcher }

func (s fsnotifySource) Add(dir string) error          { return s.w.Add(dir) }
func (s fsnotifySource) Events() <-chan fsnotify.Event { return s.w.Events }
func (s fsnotifySource) Errors() <-chan error          { return s.w.Errors }
func (s fsnotifySource) Close() error                  { return s.w.Close() }
