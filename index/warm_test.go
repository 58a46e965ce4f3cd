package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/spoolgen"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// TestWarmSyncEqualsCold changes a generated spool in every way Postfix and admins change one
// (deletions, moves between queues, chmod, new retry times, defer logs appended to, created
// and removed, new mail) and checks that a warm sync of an index file re-reads exactly the
// files that changed and ends with the same rows as a cold sync of the changed spool.
func TestWarmSyncEqualsCold(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opt := spoolgen.Options{Messages: 1500, Seed: 9, Now: time.Unix(1795865417, 0)}
	msgs := generateSorted(t, dir, opt)
	warm := openIndex(t, filepath.Join(t.TempDir(), "warm.db"))
	sp := openGenerated(t, dir)
	if _, err := warm.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	changed, removed := changeSpool(t, dir, msgs)
	opt.Messages, opt.Seed = 40, 10
	if _, err := spoolgen.Generate(ctx, dir, opt, nil); err != nil {
		t.Fatal(err)
	}
	st, err := warm.Sync(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != changed+40 || st.Removed != removed || st.Files != len(msgs)-removed+changedMoves+40 {
		t.Errorf("warm sync %+v; want %d read, %d removed, %d files", st, changed+40, removed, len(msgs)-removed+changedMoves+40)
	}
	cold := openIndex(t, "")
	if _, err := cold.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT * FROM messages ORDER BY path",
		"SELECT r.* FROM recipients r JOIN messages m USING (queue_id) ORDER BY m.path, r.address, r.status",
	} {
		if w, c := index.DumpRows(t, warm.DB(), q), index.DumpRows(t, cold.DB(), q); !slices.Equal(w, c) {
			t.Errorf("%s: warm and cold indexes differ (%d and %d rows)", q, len(w), len(c))
		}
	}
}

// generateSorted generates the spool opt describes into dir and returns its messages in path
// order.
func generateSorted(t *testing.T, dir string, opt spoolgen.Options) []*spoolgen.Message {
	t.Helper()
	var msgs []*spoolgen.Message
	if _, err := spoolgen.Generate(context.Background(), dir, opt, func(m *spoolgen.Message) error {
		msgs = append(msgs, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(msgs, func(a, b *spoolgen.Message) int { return strings.Compare(a.Path, b.Path) })
	return msgs
}

// changedMoves is how many files changeSpool moves to another queue: their old rows go and
// new ones come, so they count as removed and as read.
const changedMoves = 30

// changeSpool changes the spool behind the index's back and returns how many files a warm
// sync must read again and how many rows it must drop.
func changeSpool(t *testing.T, dir string, msgs []*spoolgen.Message) (changed, removed int) {
	t.Helper()
	do := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	path := func(m *spoolgen.Message) string { return filepath.Join(dir, m.Path) }
	var deferred []*spoolgen.Message
	for _, m := range msgs {
		if m.Queue == "deferred" && m.DeferLog != "" {
			deferred = append(deferred, m)
		}
	}
	for _, m := range deferred[:50] { // postsuper -d: the file and its log go
		do(os.Remove(path(m)))
		do(os.Remove(filepath.Join(dir, m.DeferLogPath)))
		removed++
	}
	for _, m := range deferred[50 : 50+changedMoves] { // postsuper -h
		do(os.Rename(path(m), filepath.Join(dir, "hold", m.QueueID)))
		removed++
		changed++
	}
	for _, m := range deferred[80:100] { // postsuper -e
		do(os.Chmod(path(m), 0o710))
		changed++
	}
	for _, m := range deferred[100:120] { // a new retry time
		future := time.Unix(m.MTime+3600, 0)
		do(os.Chtimes(path(m), future, future))
		changed++
	}
	for _, m := range deferred[120:140] { // the bounce daemon appends to the log
		f, err := os.OpenFile(filepath.Join(dir, m.DeferLogPath), os.O_APPEND|os.O_WRONLY, 0)
		do(err)
		_, err = fmt.Fprintf(f, "\nrecipient=%s\noffset=%d\nstatus=4.4.2\naction=delayed\nreason=lost connection\n\n", m.Recipients[0].Address, m.Recipients[0].Offset)
		do(err)
		do(f.Close())
		changed++
	}
	for _, m := range deferred[140:150] { // qmgr deletes the log when it loads the message
		do(os.Remove(filepath.Join(dir, m.DeferLogPath)))
		changed++
	}
	return changed, removed
}

func openIndex(t *testing.T, path string) *index.Index {
	t.Helper()
	ix, err := index.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func openGenerated(t *testing.T, dir string) *postfix.Spool {
	t.Helper()
	sp := testspool.Open(t, dir)
	sp.Warn = func(err error) { t.Errorf("spool warning: %v", err) }
	return sp
}
