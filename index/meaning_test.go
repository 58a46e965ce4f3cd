package index_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestIndexTakesEachMTAsMeaning loads each MTA's sample spool and checks that what the index
// says about queues is what the driver declares: the queues table is the driver's queues,
// every row's queue is one of them, queue_files.listed is the driver's verdict on each message
// as read, qshape has a TOTAL row for each listed queue and counts the pending recipients of
// the listed messages, and .status names the driver's queues only.
func TestIndexTakesEachMTAsMeaning(t *testing.T) {
	ctx := context.Background()
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			sp := s.OpenCopy(t)
			m := sp.Meaning()
			db := testindex.Memory(t, sp).DB()
			var declared []string
			for _, q := range m.Queues {
				declared = append(declared, fmt.Sprintf("%s:%v", q.Queue, q.Listed))
			}
			if got := column(t, db, `SELECT queue || ':' || iif(listed, 'true', 'false') FROM queues ORDER BY position`); !slices.Equal(got, declared) {
				t.Errorf("queues table %v, the driver declares %v", got, declared)
			}
			read := readSample(t, sp)
			if len(read) == 0 {
				t.Fatal("the sample has no message")
			}
			var pending int
			shown := map[mqsql.Queue]bool{}
			for path, msg := range read {
				if !m.Has(msg.Queue) {
					t.Errorf("%s: queue %s is not one of %s's", path, msg.Queue, m.MTA)
				}
				got := column(t, db, `SELECT listed FROM queue_files WHERE path = ?`, path)
				if want := fmt.Sprint(boolInt(m.Listed(msg))); !slices.Equal(got, []string{want}) {
					t.Errorf("%s: listed %v, the driver says %s", path, got, want)
				}
				if m.Listed(msg) {
					pending += msg.PendingCount()
				}
				shown[msg.Queue] = true
			}
			if got := column(t, db, `SELECT sum(total) FROM qshape WHERE domain = 'TOTAL'`); !slices.Equal(got, []string{fmt.Sprint(pending)}) {
				t.Errorf("qshape counts %v pending recipients, the listed messages have %d", got, pending)
			}
			var listedQueues []string
			for _, q := range m.Queues {
				if q.Listed {
					listedQueues = append(listedQueues, string(q.Queue))
				}
			}
			slices.Sort(listedQueues)
			if got := column(t, db, `SELECT queue FROM qshape WHERE domain = 'TOTAL' ORDER BY queue`); !slices.Equal(got, listedQueues) {
				t.Errorf("qshape's TOTAL rows are for %v, want the listed queues %v", got, listedQueues)
			}
			status, err := testindex.Memory(t, sp).Describe(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range mqsql.AllQueues {
				if strings.Contains(status, string(q)+" ") != m.Has(q) {
					t.Errorf(".status names %s: %v, the driver has it: %v\n%s", q, !m.Has(q), m.Has(q), status)
				}
			}
		})
	}
}

// TestPlanFollowsEachMTAsMeaning plans every queue value and expire on each MTA's sample: a
// move the driver offers plans its operation for the mail in its From queues and skips the
// rest; a value it lacks is refused before any plan, with a NotOfferedError naming the MTA
// and what it offers; forced_expire = 1 plans the driver's expire per queue.
func TestPlanFollowsEachMTAsMeaning(t *testing.T) {
	ctx := context.Background()
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			sp := s.OpenCopy(t)
			m := sp.Meaning()
			g := guardOf(t, testindex.Memory(t, sp))
			for _, mv := range m.Moves {
				actions := plan(t, g, m, fmt.Sprintf("UPDATE messages SET queue = '%s' WHERE queue_id <> ''", mv.To))
				for _, a := range actions {
					applies := slices.Contains(mv.From, a.Queue) && a.Queue != mv.To && a.Queue != mqsql.Corrupt
					if a.Op != mv.Op || (a.Skip == "") != applies {
						t.Errorf("queue = '%s' on %s in %s: %s, skip %q; want %s, applies %v", mv.To, a.QueueID, a.Queue, a.Op, a.Skip, mv.Op, applies)
					}
				}
			}
			for _, l := range m.Lacks {
				st, err := g.Classify(ctx, fmt.Sprintf("UPDATE messages SET queue = '%s' WHERE queue_id <> ''", l.To))
				if err != nil {
					t.Fatal(err)
				}
				actions, err := g.Plan(ctx, st, m)
				st.Close()
				var no *index.NotOfferedError
				if !errors.As(err, &no) || !errors.Is(err, index.ErrDenied) || len(actions) != 0 ||
					!strings.Contains(err.Error(), m.MTA+" has no "+string(l.Op)) || !strings.Contains(err.Error(), m.Offers()) {
					t.Errorf("queue = '%s': %d actions, %v; want a NotOfferedError naming %s and what it offers", l.To, len(actions), err, m.MTA)
				}
			}
			expireNow(t, g, m)
			for _, a := range plan(t, g, m, "UPDATE messages SET forced_expire = 1 WHERE queue_id <> ''") {
				if a.Queue == mqsql.Corrupt && (m.CorruptSkip == "" || a.Skip != m.CorruptSkip) {
					t.Errorf("%s in corrupt: skip %q, want %s's words %q", a.QueueID, a.Skip, m.MTA, m.CorruptSkip)
				}
				mv, ok := m.ExpireFrom(a.Queue)
				if ok && a.Queue != mqsql.Corrupt && a.Op != mv.Op {
					t.Errorf("forced_expire on %s in %s: %s, want %s", a.QueueID, a.Queue, a.Op, mv.Op)
				}
				if !ok && a.Skip == "" {
					t.Errorf("forced_expire on %s in %s: planned %s, but %s has no expire from %s", a.QueueID, a.Queue, a.Op, m.MTA, a.Queue)
				}
			}
		})
	}
}

// TestMeaningsDeclareWhatEachMTALacks pins the data the planner refuses by: Exim and
// Sendmail have no requeue, Postfix has every move.
func TestMeaningsDeclareWhatEachMTALacks(t *testing.T) {
	for _, s := range testspool.Samples() {
		m := s.OpenCopy(t).Meaning()
		_, requeue := m.MoveTo(mqsql.Maildrop)
		_, lacks := m.Lacking(mqsql.Maildrop)
		if want := s.MTA == "postfix"; requeue != want || lacks == want {
			t.Errorf("%s: requeue %v, lacks it %v; want requeue %v", s.MTA, requeue, lacks, want)
		}
	}
}

// expireNow plans the one-statement expire and deliver now: each message the expire applies
// to is then flushed, unless the MTA's expire returns mail at once (Exim, Sendmail), where the
// expire is all.
func expireNow(t *testing.T, g *index.Guard, m *mqsql.Meaning) {
	t.Helper()
	expired, flushed := map[string]bool{}, map[string]bool{}
	for _, a := range plan(t, g, m, "UPDATE messages SET forced_expire = 1, queue = 'active' WHERE queue_id <> ''") {
		switch {
		case a.Skip != "":
		case a.Op == mqsql.OpFlush:
			flushed[a.Path] = true
		default:
			expired[a.Path] = true
		}
	}
	if len(expired) == 0 {
		t.Fatal("the expire and deliver now applies to no message")
	}
	for path := range expired {
		if flushed[path] == m.ExpireReturnsAtOnce {
			t.Errorf("%s: expired, flushed %v; %s's expire returns mail at once: %v", path, flushed[path], m.MTA, m.ExpireReturnsAtOnce)
		}
	}
}

func guardOf(t *testing.T, ix *index.Index) *index.Guard {
	t.Helper()
	ctx := context.Background()
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func plan(t *testing.T, g *index.Guard, m *mqsql.Meaning, sql string) []mqsql.Action {
	t.Helper()
	ctx := context.Background()
	st, err := g.Classify(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	actions, err := g.Plan(ctx, st, m)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if len(actions) == 0 {
		t.Fatalf("%s: nothing planned", sql)
	}
	return actions
}

// readSample reads every message of sp as a walk lists it, by path.
func readSample(t *testing.T, sp mqsql.Spool) map[string]*mqsql.Message {
	t.Helper()
	out := map[string]*mqsql.Message{}
	err := sp.Walk(context.Background(), func(e mqsql.Entry) error {
		msg, err := sp.ReadWithin(e, nil)
		if err != nil {
			return err
		}
		out[msg.File.Path] = msg
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// column runs q on db and returns its one column as text.
func column(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestListedFollowsAChmod expires a Postfix message the way postsuper -e does (the group
// execute bit, a chmod that keeps the content): the index moves the row without reading it
// again, and asks the driver again whether the listing shows it, so qshape stops counting it.
func TestListedFollowsAChmod(t *testing.T) {
	ctx := context.Background()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	sp := testspool.Open(t, dir)
	ix := testindex.Memory(t, sp)
	const path = "deferred/3/4jc7PP1W6fzdXSJ"
	if got := column(t, ix.DB(), `SELECT listed FROM queue_files WHERE path = ?`, path); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("%s listed %v before the expire", path, got)
	}
	if err := os.Chmod(filepath.Join(dir, path), 0o710); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Reconcile(ctx, sp); err != nil {
		t.Fatal(err)
	}
	got := column(t, ix.DB(), `SELECT listed || ' ' || forced_expire FROM queue_files WHERE path = ?`, path)
	if !slices.Equal(got, []string{"0 1"}) {
		t.Errorf("%s after postsuper -e's chmod: listed, forced_expire = %v, want 0 1", path, got)
	}
}
