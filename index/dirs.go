package index

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// watchTree adds a watch on the queue directory itself (so that a queue directory removed and
// created again is noticed), on every queue and log directory and on every hash subdirectory
// that exists now. Adding an existing watch again is harmless, and re-adds one the kernel
// dropped because its directory was removed and created again.
func (w *Watcher) watchTree() error {
	src := w.source()
	if src == nil {
		return nil
	}
	if err := src.Add(w.root); err != nil {
		return fmt.Errorf("watch %s: %w", w.root, err)
	}
	n := 1
	for _, top := range w.sp.WatchedDirs() {
		if err := w.watchSubtree(top, 0, &n, nil); err != nil {
			return err
		}
	}
	w.mu.Lock()
	w.st.Dirs = n
	w.mu.Unlock()
	return nil
}

// watchSubtree watches directory rel and its one-character subdirectories, counting them in
// n. When found is not nil, it also marks the queue IDs of the files it lists dirty there: a
// directory that just appeared may have filled before its watch existed.
func (w *Watcher) watchSubtree(rel string, depth int, n *int, found map[string]*dirtyID) error {
	src := w.source()
	if src == nil {
		return nil
	}
	abs := filepath.Join(w.root, rel)
	if err := src.Add(abs); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // not created yet, or removed meanwhile
		}
		return fmt.Errorf("watch %s: %w", abs, err)
	}
	*n++
	entries, err := w.sp.ListDir(rel)
	if err != nil {
		return nil // removed meanwhile; the next full pass sees it
	}
	now := time.Now()
	for _, e := range entries {
		sub := rel + "/" + e.Name()
		if e.IsDir() && w.sp.IsHashDir(e.Name(), depth) {
			if err := w.watchSubtree(sub, depth+1, n, found); err != nil {
				return err
			}
			continue
		}
		if found != nil {
			if c, ok := w.sp.Classify(sub); ok && c.ID != "" {
				markDirty(found, c.ID, c.Hint, now).anywhere = true
			}
		}
	}
	return nil
}

// watchNewDirs watches the directories created since the last batch and scans them into
// batch. An entry that turns out to be no directory (a link put where the layout has a
// directory, or a file with such a name) is left to a full pass, which tells what it is.
func (w *Watcher) watchNewDirs(dirs map[string]bool, batch map[string]*dirtyID) {
	for rel := range dirs {
		if !w.sp.IsDir(rel) {
			w.requestRescan(rel + " was created, and is no directory")
			continue
		}
		depth := strings.Count(rel, "/")
		n := 0
		if err := w.watchSubtree(rel, depth, &n, batch); err != nil {
			w.fallBack(err)
			w.requestRescan("fallback to polling")
			return
		}
		w.mu.Lock()
		w.st.Dirs += n
		w.mu.Unlock()
	}
}

func (w *Watcher) source() EventSource {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.src
}
