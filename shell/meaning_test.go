package shell_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
)

// TestSessionSpeaksEachMTAsMeaning runs a session on each MTA's sample spool, writes as dry
// runs: completing a queue value offers the driver's queues; a hold is planned with the
// driver's command; a requeue is planned on Postfix and refused on Exim and Sendmail before
// any plan, naming the MTA and what it offers.
func TestSessionSpeaksEachMTAsMeaning(t *testing.T) {
	ctx := context.Background()
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			var out bytes.Buffer
			sp := s.OpenCopy(t)
			sess := dryRunSession(t, sp, &out)
			in := &shell.Interactive{Session: sess, Editor: &scriptEditor{out: &out}}
			_, got, _ := in.Complete("SELECT * FROM messages WHERE queue = '", len("SELECT * FROM messages WHERE queue = '"))
			var want []string
			for _, q := range sp.Meaning().QueueNames() {
				want = append(want, "'"+string(q)+"'")
			}
			if !slices.Equal(got, want) {
				t.Errorf("queue values completed: %v, want the driver's %v", got, want)
			}
			hold, _ := sp.Meaning().MoveTo(mqsql.Hold)
			out.Reset()
			sess.RunScript(ctx, strings.NewReader("UPDATE messages SET queue = 'hold' WHERE queue_id <> '';\n"))
			if !strings.Contains(out.String(), "Plan: Hold") || !strings.Contains(out.String(), "Dry run") {
				t.Errorf("hold (%s) not planned:\n%s", hold.Says, out.String())
			}
			out.Reset()
			err := sess.RunScript(ctx, strings.NewReader("UPDATE messages SET queue = 'maildrop' WHERE queue_id <> '';\n"))
			if _, requeues := sp.Meaning().MoveTo(mqsql.Maildrop); requeues {
				if err != nil || !strings.Contains(out.String(), "Plan: Requeue") {
					t.Errorf("requeue not planned (%v):\n%s", err, out.String())
				}
				return
			}
			m := sp.Meaning()
			if err == nil || strings.Contains(out.String(), "Plan:") || !strings.Contains(out.String(), m.MTA+" has no requeue") ||
				!strings.Contains(out.String(), m.Offers()) {
				t.Errorf("requeue on %s not refused before the plan (%v):\n%s", m.MTA, err, out.String())
			}
		})
	}
}

// dryRunSession is a session on sp whose writes are forced dry runs with the driver's own
// executor.
func dryRunSession(t *testing.T, sp mqsql.QueueDir, out *bytes.Buffer) *shell.Session {
	t.Helper()
	ctx := context.Background()
	ix := testindex.Memory(t, sp, index.WithClock(mqsql.FixedClock(goldenTime)))
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	ex, backend := sp.Executor(false)
	return &shell.Session{Conn: conn, Out: out, Err: out, Guard: g, Layout: sp,
		Writes: &shell.Writes{Spool: sp, Executor: ex, Backend: backend, DryRun: true, Force: true, BackupBase: t.TempDir()},
		Opt:    output.Options{Format: output.Table, Headers: true, Escape: true, Width: 100}}
}
