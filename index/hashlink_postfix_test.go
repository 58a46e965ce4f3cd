package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/spool"
)

// linkHashDir replaces the real queue's hash directory deferred/C by a symbolic link to a
// directory beside the queues (on the same file system, so Postfix's renames through the link
// work) and returns that directory. Cleanup puts the directory back and empties the queue.
func linkHashDir(ctx context.Context, t *testing.T, pf *postfixtest.Postfix) string {
	t.Helper()
	hashDir := filepath.Join(pf.QueueDir(), "deferred", "C")
	target := filepath.Join(pf.QueueDir(), "mqsql-test-linked-C")
	if err := os.MkdirAll(hashDir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(pf.QueueDir(), "deferred"))
	if err != nil {
		t.Fatal(err)
	}
	replaceWithLink(t, hashDir, target)
	t.Cleanup(func() {
		if err := os.Remove(hashDir); err != nil {
			t.Errorf("remove the link %s: %v", hashDir, err)
		}
		if err := os.Rename(target, hashDir); err != nil {
			t.Errorf("restore %s: %v", hashDir, err)
		}
		if err := pf.Reset(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("reset after restoring %s: %v", hashDir, err)
		}
	})
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		if err := os.Chown(target, int(sys.Uid), -1); err != nil {
			t.Fatal(err)
		}
	}
	return target
}

// TestWatchHashDirectoryLinkUnderPostfix is TestWatchHashDirectoryLink with real Postfix
// deferring mail into a hash directory that is a symbolic link: the watcher must index every
// other message exactly as postqueue -j lists it, warn about the link, and read nothing
// behind it.
func TestWatchHashDirectoryLinkUnderPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	target := linkHashDir(ctx, t, pf)
	cfg, err := spool.LoadConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var warned warnings
	sp.Warn = warned.add
	ix, err := index.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	w, err := ix.Watch(ctx, sp, index.WatchOptions{Reconcile: time.Hour, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	linked := sendUntilLinked(ctx, t, pf, target)
	var diffs []string
	untilTrue(t, lostAfter, func() (bool, string) {
		diffs = linkedDiff(ctx, t, pf, ix, linked)
		return len(diffs) == 0, fmt.Sprintf("index differs from postqueue -j: %v", diffs)
	})
	if st := w.State(); st.LastError != "" {
		t.Errorf("watcher error %q", st.LastError)
	}
	if len(warned.about("deferred/C", "symbolic link")) == 0 {
		t.Errorf("no warning about the link deferred/C; warnings: %q", warned.about())
	}
}

// sendUntilLinked sends deferred mail until Postfix has put some behind the link (the hash
// directory is picked by the queue ID's microseconds), and returns the IDs there.
func sendUntilLinked(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, target string) map[string]bool {
	t.Helper()
	linked := map[string]bool{}
	for round := 0; len(linked) == 0 && round < 10; round++ {
		c, err := pf.Dial(ctx, "link.client.test")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if _, err := c.Send(ctx, &postfixtest.Message{From: "link@sender.test",
				To: []string{fmt.Sprintf("r%d@remote.test", i)}, BodySize: 500}); err != nil {
				t.Fatal(err)
			}
		}
		c.Quit(ctx)
		if err := pf.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(target)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			linked[e.Name()] = true
		}
	}
	if len(linked) == 0 {
		queued, _ := pf.PostqueueJSON(ctx)
		where := map[string]int{}
		for _, e := range queued {
			where[e.QueueName]++
		}
		t.Fatalf("Postfix deferred no mail into deferred/C (queued: %v): the test proves nothing", where)
	}
	return linked
}

// linkedDiff lists how the index differs from postqueue -j, where the messages behind the
// link must not be indexed and every other one must be, in its queue.
func linkedDiff(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, ix *index.Index, linked map[string]bool) []string {
	t.Helper()
	entries, err := pf.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var diffs []string
	want := 0
	for _, e := range entries {
		got := queueOf(t, ix.DB(), e.QueueID)
		switch {
		case linked[e.QueueID] && got != "":
			diffs = append(diffs, e.QueueID+": behind the link, but indexed in "+got)
		case !linked[e.QueueID] && got != e.QueueName:
			diffs = append(diffs, fmt.Sprintf("%s: in %s, indexed in %q", e.QueueID, e.QueueName, got))
		}
		if !linked[e.QueueID] {
			want++
		}
	}
	var n int
	if err := ix.DB().QueryRow(`SELECT count(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		diffs = append(diffs, fmt.Sprintf("%d messages indexed, want %d", n, want))
	}
	return diffs
}
