package sendmail_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// oldIDs are the names the test gives real messages' files: Sendmail before 8.12 wrote IDs
// like AAA06703 and AA12345, and gatherq lists every qf name shorter than MAXQFNAME (21), so
// an ID of 18 characters too.
var oldIDs = []string{"AAA06703", "AA12345", "ABCDEFGHIJ01234567"}

// TestStoredShapes makes the queue-file shapes of issue 27 with the real Sendmail and checks
// them against mailq in the same run: a recipient Sendmail stores with its display name
// (sendmail -odq keeps "Donkey <admin@…>" as written: RPFD:Donkey <admin@…>), deferred by
// a queue run whose reason has no status code; and messages whose qf and df were renamed to
// old short IDs (and an 18-character one). Every message mailq lists is read with its ID,
// size, time, sender, recipients and reason; the index's rows, with domain(), localpart()
// and qshape_domain(), are in testdata/stored-sendmail.golden: the address's own domain, NULL
// dsn_status. Then a queue holding only old-ID files is a Sendmail queue.
func TestStoredShapes(t *testing.T) {
	sm := sendmailtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	names := map[string]string{}
	donkey := submitOne(ctx, t, sm, "s0@x.example", "Donkey <admin@DockerDonkey.example>", "<angle@angle.example>")
	names[donkey] = "display name"
	if _, err := sm.RunQueue(ctx, "-qI"+donkey); err != nil {
		t.Fatal(err)
	}
	for i, old := range oldIDs {
		id := submitOne(ctx, t, sm, "s1@x.example", "r"+old+"@remote.example")
		for _, l := range []string{"qf", "df"} {
			if err := os.Rename(filepath.Join(sm.Queue, l+id), filepath.Join(sm.Queue, l+old)); err != nil {
				t.Fatal(err)
			}
		}
		names[old] = "old ID " + string(rune('a'+i))
	}
	agreeWithMailq(ctx, t, sm, len(names))
	qf, err := os.ReadFile(filepath.Join(sm.Queue, "qf"+donkey))
	if err != nil || !strings.Contains(string(qf), "\nRPFD:Donkey <admin@DockerDonkey.example>\n") {
		t.Errorf("Sendmail no longer stores the display name (%v):\n%s", err, qf)
	}
	ix := testindex.Memory(t, open(t, sm.Queue))
	golden.Check(t, "stored-sendmail", testindex.Dump(t, ix.DB(), `
		SELECT queue_id, address, domain, localpart(address) AS local, domain(address) AS fn,
		       qshape_domain(address) AS qshape, delay_reason, dsn_status, diag_text
		FROM recipients`, names))

	for _, l := range []string{"qf", "df"} {
		os.Remove(filepath.Join(sm.Queue, l+donkey))
	}
	if err := (&sendmail.Driver{Config: filepath.Join(t.TempDir(), "none.cf")}).Check(sm.Queue); err != nil {
		t.Errorf("a queue of old-ID files only: %v", err)
	}
	agreeWithMailq(ctx, t, sm, len(oldIDs))
}

// submitOne queues a message and returns its ID.
func submitOne(ctx context.Context, t *testing.T, sm *sendmailtest.Sendmail, from string, rcpts ...string) string {
	t.Helper()
	before, _ := filepath.Glob(filepath.Join(sm.Queue, "qf*"))
	if err := sm.Submit(ctx, from, rcpts, []byte("Subject: stored shapes\n\nbody\n")); err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(sm.Queue, "qf*"))
	for _, p := range after {
		if !contains(before, p) {
			return strings.TrimPrefix(filepath.Base(p), "qf")
		}
	}
	t.Fatal("sendmail queued nothing")
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// agreeWithMailq checks that mailq lists n messages and that the driver reads each as listed
// and nothing else.
func agreeWithMailq(ctx context.Context, t *testing.T, sm *sendmailtest.Sendmail, n int) {
	t.Helper()
	listed, err := sm.Mailq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != n {
		t.Fatalf("mailq lists %d messages, the test made %d: %+v", len(listed), n, listed)
	}
	got := readAll(t, sm.Queue)
	for _, l := range listed {
		m := got[l.ID]
		if m == nil {
			t.Errorf("%s: listed by mailq, not read", l.ID)
			continue
		}
		delete(got, l.ID)
		if diff := sendmailtest.Compare(l, sendmailtest.Read{ID: m.QueueID, Size: m.Size, Arrival: m.ArrivalTime,
			Sender: m.Sender, Recipients: recipients(m), Reasons: reasons(m)}, true); diff != "" || m.Error != "" {
			t.Errorf("%s: %s (error %q)", l.ID, diff, m.Error)
		}
	}
	for id := range got {
		t.Errorf("%s: read, but mailq does not list it", id)
	}
}
