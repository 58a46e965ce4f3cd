package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// warnings collects what a spool warns about, from any goroutine.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, err.Error())
}

// about returns the warnings that contain every one of words.
func (w *warnings) about(words ...string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.list {
		all := true
		for _, word := range words {
			all = all && strings.Contains(s, word)
		}
		if all {
			out = append(out, s)
		}
	}
	return out
}

// replaceWithLink moves the directory dir elsewhere (to target) and puts a symbolic link to
// it in its place, as someone who can write to the spool might.
func replaceWithLink(t *testing.T, dir, target string) {
	t.Helper()
	if err := os.Rename(dir, target); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
}

// TestWatchHashDirectoryLink replaces the hash directory deferred/C by a symbolic link to a
// directory outside the spool that still holds its messages, then makes the watcher refresh
// one of them (a new delay reason) together with new mail. The new mail must be indexed, the
// link warned about, and nothing behind the link read: a refresh that lstats through the
// link finds the file, fails to read it, and fails its whole chunk with it.
func TestWatchHashDirectoryLink(t *testing.T) {
	ctx := context.Background()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	sample, err := os.ReadFile(filepath.Join(dir, sampleFile))
	if err != nil {
		t.Fatal(err)
	}
	const linkedID = "4jc7Q05sr6zdZKw" // in deferred/C of the sample spool
	replaceWithLink(t, filepath.Join(dir, "deferred/C"), filepath.Join(t.TempDir(), "C"))

	sp := testspool.Open(t, dir)
	var warned warnings
	sp.Warn = warned.add
	ix, err := index.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	w, err := ix.Watch(ctx, sp, index.WatchOptions{Reconcile: time.Hour, Debounce: 100 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	before := len(indexRows(t, ix.DB()))

	// One burst: a new delay reason for the message behind the link, and new mail.
	log := "\nrecipient=x@remote.test\noffset=1\nstatus=4.4.1\naction=delayed\nreason=connect refused\n\n"
	if err := os.WriteFile(filepath.Join(dir, "defer/C", linkedID), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	var newIDs []string
	for i := range 5 {
		id := fmt.Sprintf("N%04dBCDFGH", i)
		if err := os.WriteFile(filepath.Join(dir, "hold", id), sample, 0o700); err != nil {
			t.Fatal(err)
		}
		newIDs = append(newIDs, id)
	}
	untilTrue(t, 10*time.Second, func() (bool, string) {
		for _, id := range newIDs {
			if queueOf(t, ix.DB(), id) != "hold" {
				return false, fmt.Sprintf("%s not indexed in hold (watcher error %q)", id, w.State().LastError)
			}
		}
		return true, ""
	})
	if err := w.Rescan(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := len(indexRows(t, ix.DB())), before+len(newIDs); got != want {
		t.Errorf("%d messages indexed, want %d", got, want)
	}
	if q := queueOf(t, ix.DB(), linkedID); q != "" {
		t.Errorf("%s, behind the link, was read: indexed in %s", linkedID, q)
	}
	if st := w.State(); st.LastError != "" {
		t.Errorf("watcher error %q", st.LastError)
	}
	if len(warned.about("deferred/C", "symbolic link")) == 0 {
		t.Errorf("no warning about the link deferred/C; warnings: %q", warned.about())
	}
}
