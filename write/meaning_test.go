package write_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/write"
)

// TestPlansFollowEachMTAsMeaning plans statements with the write path on each MTA's sample
// spool: every group of a hold or an expire is the driver's operation on mail in one of the
// queues it applies to, and a requeue is a Requeue plan on Postfix and a NotOfferedError on
// Exim and Sendmail, with no plan.
func TestPlansFollowEachMTAsMeaning(t *testing.T) {
	ctx := context.Background()
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			sp := s.OpenCopy(t)
			m := sp.Meaning()
			w := writerOn(t, sp)
			hold, _ := m.MoveTo(mqsql.Hold)
			for _, g := range planned(t, w, "UPDATE messages SET queue = 'hold' WHERE queue_id <> ''").Groups {
				if g.Op != hold.Op || !slices.Contains(hold.From, g.Queue) {
					t.Errorf("hold planned %s on %d messages in %s; %s holds mail in %v", g.Op, len(g.Targets), g.Queue, m.MTA, hold.From)
				}
			}
			for _, g := range planned(t, w, "UPDATE messages SET forced_expire = 1 WHERE queue_id <> ''").Groups {
				if mv, ok := m.ExpireFrom(g.Queue); !ok || mv.Op != g.Op {
					t.Errorf("expire planned %s on mail in %s; %s's expire there: %v %v", g.Op, g.Queue, m.MTA, mv.Op, ok)
				}
			}
			st, err := w.Guard.Classify(ctx, "UPDATE messages SET queue = 'maildrop' WHERE queue_id <> ''")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			p, err := w.Plan(ctx, st)
			var no *index.NotOfferedError
			if _, requeues := m.MoveTo(mqsql.Maildrop); requeues {
				if err != nil || p.Runnable() == 0 || p.Groups[0].Op != mqsql.OpRequeue {
					t.Errorf("requeue on %s: %v", m.MTA, err)
				}
			} else if !errors.As(err, &no) || no.MTA != m.MTA || p != nil {
				t.Errorf("requeue on %s: plan %v, error %v; want a NotOfferedError and no plan", m.MTA, p, err)
			}
		})
	}
}

// writerOn is a forced write path on an index of sp, with the driver's executor.
func writerOn(t *testing.T, sp mqsql.QueueDir) *write.Writer {
	t.Helper()
	ctx := context.Background()
	conn, err := testindex.Memory(t, sp).DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	ex, backend := sp.Executor(false)
	return &write.Writer{Guard: g, Spool: sp, Executor: ex, Backend: backend, Force: true, BackupBase: t.TempDir()}
}

func planned(t *testing.T, w *write.Writer, sql string) *write.Plan {
	t.Helper()
	ctx := context.Background()
	st, err := w.Guard.Classify(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := w.Plan(ctx, st)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if p.Runnable() == 0 {
		t.Fatalf("%s: nothing to do", sql)
	}
	return p
}
