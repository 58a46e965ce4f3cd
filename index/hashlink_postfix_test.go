package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/spool/postfix"
)

// linkHashDir replaces the real queue's hash directory deferred/<h> by a symbolic link to a
// directory beside the queues (on the same file system, so Postfix's renames through the link
// work) and returns that directory. Cleanup puts the directory back and empties the queue.
func linkHashDir(ctx context.Context, t *testing.T, pf *postfixtest.Postfix, h string) string {
	t.Helper()
	hashDir := filepath.Join(pf.QueueDir(), "deferred", h)
	target := filepath.Join(pf.QueueDir(), "mqsql-test-linked-"+h)
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
	return target
}

// TestWatchHashDirectoryLinkUnderPostfix is TestWatchHashDirectoryLink with real Postfix:
// deferred mail sits in a hash directory (C when some landed there) that is then replaced by
// a symbolic link, and a flush makes qmgr retry it all, moving it through active, writing
// delay logs and putting it back behind the link. The watcher must index every other message
// exactly as postqueue -j lists it, warn about the link, and read nothing behind it.
func TestWatchHashDirectoryLinkUnderPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	h := sendDeferred(ctx, t, pf)
	target := linkHashDir(ctx, t, pf, h)
	cfg, err := postfix.LoadConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := postfix.Open(cfg)
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

	if out, err := pf.Postqueue(ctx, "-f"); err != nil {
		t.Fatalf("postqueue -f: %v: %s", err, out)
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	untilTrue(t, lostAfter, func() (bool, string) {
		diffs = linkedDiff(ctx, t, pf, ix, behindLink(t, target))
		return len(diffs) == 0, fmt.Sprintf("index differs from postqueue -j: %v", diffs)
	})
	if st := w.State(); st.LastError != "" {
		t.Errorf("watcher error %q", st.LastError)
	}
	if len(warned.about("deferred/"+h, "symbolic link")) == 0 {
		t.Errorf("no warning about the link deferred/%s; warnings: %q", h, warned.about())
	}
}

// sendDeferred sends mail that Postfix defers and returns a hash directory of deferred/ that
// holds some of it, C when it can (the directory is picked by the queue ID's microseconds).
func sendDeferred(ctx context.Context, t *testing.T, pf *postfixtest.Postfix) string {
	t.Helper()
	c, err := pf.Dial(ctx, "link.client.test")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := c.Send(ctx, &postfixtest.Message{From: "link@sender.test",
			To: []string{fmt.Sprintf("r%d@remote.test", i)}, BodySize: 500}); err != nil {
			t.Fatal(err)
		}
	}
	c.Quit(ctx)
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	best := ""
	for _, h := range strings.Split("C0123456789ABDEF", "") {
		if files, _ := os.ReadDir(filepath.Join(pf.QueueDir(), "deferred", h)); len(files) > 0 {
			if best = h; h == "C" {
				break
			}
		}
	}
	if best == "" {
		t.Fatal("Postfix deferred no mail into a hash directory: the test proves nothing")
	}
	return best
}

// behindLink lists the queue IDs of the files in the linked directory.
func behindLink(t *testing.T, target string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(target)
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, e := range entries {
		linked[e.Name()] = true
	}
	if len(linked) == 0 {
		t.Fatal("no mail behind the link: the test proves nothing")
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

// TestWatchHashDirectoryBecomesLinkUnderPostfix replaces a hash directory of deferred/ by a
// symbolic link while the watcher runs, as someone who can write to the spool might. The
// watcher must handle it as a fresh start does: warn about the link, drop the rows of the
// messages behind it (a link is not the spool) and keep every other message as postqueue -j
// lists it, with no events row naming the directory as if it were a queue ID.
func TestWatchHashDirectoryBecomesLinkUnderPostfix(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	h := sendDeferred(ctx, t, pf)
	cfg, err := postfix.LoadConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := postfix.Open(cfg)
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

	target := linkHashDir(ctx, t, pf, h)
	linked := behindLink(t, target)
	var diffs []string
	untilTrue(t, lostAfter, func() (bool, string) {
		diffs = linkedDiff(ctx, t, pf, ix, linked)
		return len(diffs) == 0, fmt.Sprintf("index differs from postqueue -j: %v", diffs)
	})
	var bogus int
	if err := ix.DB().QueryRow(`SELECT count(*) FROM events WHERE queue_id = ?`, h).Scan(&bogus); err != nil {
		t.Fatal(err)
	}
	if bogus > 0 {
		t.Errorf("%d events rows name the hash directory %s as a queue ID", bogus, h)
	}
	if st := w.State(); st.LastError != "" {
		t.Errorf("watcher error %q", st.LastError)
	}
	if len(warned.about("deferred/"+h, "symbolic link")) == 0 {
		t.Errorf("no warning about the link deferred/%s; warnings: %q", h, warned.about())
	}
}
