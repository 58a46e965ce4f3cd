package index

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
)

// maxHashDepth bounds how deep the watcher descends into one-character subdirectories, as
// the spool walk does.
const maxHashDepth = 16

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
	for _, top := range watchedTops() {
		if err := w.watchSubtree(top, 0, &n, nil); err != nil {
			return err
		}
	}
	w.mu.Lock()
	w.st.Dirs = n
	w.mu.Unlock()
	return nil
}

// watchedTops lists the top-level directories the watcher watches: the queues and the logs.
func watchedTops() []string {
	tops := make([]string, 0, len(mqsql.AllQueues)+len(logDirs))
	for _, q := range mqsql.AllQueues {
		tops = append(tops, string(q))
	}
	return append(tops, logDirs...)
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
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil // removed meanwhile; the next full pass sees it
	}
	now := time.Now()
	top, _, _ := strings.Cut(rel, "/")
	for _, e := range entries {
		sub := rel + "/" + e.Name()
		if e.IsDir() && len(e.Name()) == 1 && depth < maxHashDepth {
			if err := w.watchSubtree(sub, depth+1, n, found); err != nil {
				return err
			}
			continue
		}
		if found != nil {
			if id, hint, ok := eventID(top, sub, e.Name()); ok {
				markDirty(found, id, hint, now).anywhere = true
			}
		}
	}
	return nil
}

// watchNewDirs watches the directories created since the last batch and scans them into
// batch. Entries that turn out to be files were marked dirty by their own events already.
func (w *Watcher) watchNewDirs(dirs map[string]bool, batch map[string]*dirtyID) {
	for rel := range dirs {
		fi, err := os.Lstat(filepath.Join(w.root, rel))
		if err != nil || !fi.IsDir() {
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
