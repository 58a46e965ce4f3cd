package index_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/postfixtest"
	"github.com/mqsql/mqsql/spool/postfix"
)

// populationSize is how many messages the real-Postfix tests inject; MQSQL_TEST_MESSAGES
// raises it for the tens-of-thousands runs.
func populationSize(t *testing.T, def int) int {
	if s := os.Getenv("MQSQL_TEST_MESSAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("MQSQL_TEST_MESSAGES=%q: %v", s, err)
		}
		return n
	}
	return def
}

func liveSpool(t *testing.T) *postfix.Spool {
	t.Helper()
	cfg, err := postfix.LoadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sp, err := postfix.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sp.Warn = func(err error) { t.Errorf("spool warning: %v", err) }
	t.Cleanup(func() { sp.Close() })
	return sp
}

// TestAgreesWithPostqueue fills a real Postfix queue with a varied population and checks that
// the index lists exactly what postqueue -j lists, field for field, then that an index file
// kept with --db follows holds, releases and deletions by re-reading only what changed.
func TestAgreesWithPostqueue(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	man := pf.Population(ctx, t, populationSize(t, 3000))
	entries, err := pf.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < man.Messages-man.PartlyDelivered {
		t.Errorf("postqueue lists %d messages, %d were injected", len(entries), man.Messages)
	}
	sp := liveSpool(t)
	dbPath := filepath.Join(t.TempDir(), "index.db")
	ix, err := index.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	st, err := ix.Sync(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold sync: %+v", st)
	if st.Damaged != 0 {
		t.Errorf("%d files read with errors", st.Damaged)
	}
	compareWithPostqueue(t, ix.DB(), entries)
	checkSASL(t, ix, man)

	// Change the queue behind the index's back, as another admin would.
	held := entries[:10]
	for _, e := range held {
		if out, err := pf.Postsuper(ctx, "-h", e.QueueID); err != nil {
			t.Fatalf("postsuper -h: %v: %s", err, out)
		}
	}
	for _, e := range entries[10:15] {
		if out, err := pf.Postsuper(ctx, "-d", e.QueueID); err != nil {
			t.Fatalf("postsuper -d: %v: %s", err, out)
		}
	}
	for _, id := range man.HeldIDs {
		if out, err := pf.Postsuper(ctx, "-H", id); err != nil {
			t.Fatalf("postsuper -H: %v: %s", err, out)
		}
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	before := entries
	entries, err = pf.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err = ix.Sync(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm sync: %+v", st)
	arrived, left := keyDiff(entries, before), keyDiff(before, entries)
	if st.Read != arrived || st.Removed != left || st.Unchanged != len(entries)-arrived {
		t.Errorf("warm sync re-read %d, dropped %d, kept %d; want exactly the %d moved in, %d moved out, %d untouched",
			st.Read, st.Removed, st.Unchanged, arrived, left, len(entries)-arrived)
	}
	compareWithPostqueue(t, ix.DB(), entries)
}

// checkSASL checks the seed's own scenario: GROUP BY sasl_username finds the hijacked account.
func checkSASL(t *testing.T, ix *index.Index, man postfixtest.Manifest) {
	t.Helper()
	if man.Authenticated == 0 {
		t.Fatal("the population sent no authenticated mail")
	}
	var n int
	err := ix.DB().QueryRow(`SELECT count(*) FROM messages WHERE sasl_username = ?`, man.AuthUser).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no message with sasl_username %q (%d authenticated sent)", man.AuthUser, man.Authenticated)
	}
}

// keyDiff counts the queue files (queue and ID) listed in a but not in b.
func keyDiff(a, b []postfixtest.Entry) int {
	inB := map[string]bool{}
	for _, e := range b {
		inB[e.QueueName+"/"+e.QueueID] = true
	}
	n := 0
	for _, e := range a {
		if !inB[e.QueueName+"/"+e.QueueID] {
			n++
		}
	}
	return n
}
