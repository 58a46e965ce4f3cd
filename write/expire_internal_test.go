package write

import (
	"context"
	"testing"

	"github.com/mqsql/mqsql"
)

// expirer is an executor whose expire returns mail at once, or not.
type expirer struct{ atOnce bool }

func (expirer) Command(mqsql.Op, mqsql.Queue) string { return "" }
func (expirer) Apply(context.Context, mqsql.Op, mqsql.Queue, []mqsql.Target) []mqsql.Outcome {
	return nil
}
func (e expirer) ExpiresAtOnce() bool { return e.atOnce }

// plainExecutor is an executor that says nothing about its expire.
type plainExecutor struct{}

func (plainExecutor) Command(mqsql.Op, mqsql.Queue) string { return "" }
func (plainExecutor) Apply(context.Context, mqsql.Op, mqsql.Queue, []mqsql.Target) []mqsql.Outcome {
	return nil
}

// TestFlushAfterImmediateExpire plans the one-statement expire for an executor whose expire
// returns the mail at once: the flush of each message the expire applies to is not planned,
// the flush of a message the expire does not apply to stays with its reason, and for other
// executors both stay.
func TestFlushAfterImmediateExpire(t *testing.T) {
	a := mqsql.Target{QueueID: "1xYTuW-00009O-26", Queue: mqsql.Incoming, Inode: 1}
	held := mqsql.Target{QueueID: "1xYTuW-0000A1-2X", Queue: mqsql.Hold, Inode: 2}
	broken := mqsql.Target{QueueID: "1xYTuW-00009V-2B", Queue: mqsql.Corrupt, Inode: 3}
	actions := []mqsql.Action{
		{Target: a, Op: mqsql.OpExpire}, {Target: a, Op: mqsql.OpFlush},
		{Target: held, Op: mqsql.OpExpireRelease}, {Target: held, Op: mqsql.OpFlush},
		{Target: broken, Op: mqsql.OpExpire, Skip: "corrupt"}, {Target: broken, Op: mqsql.OpFlush, Skip: "corrupt"},
	}
	tests := []struct {
		name string
		ex   mqsql.Executor
		want []string
	}{
		{"at once", expirer{true}, []string{"expire " + a.QueueID, "expire-release " + held.QueueID, "expire " + broken.QueueID, "flush " + broken.QueueID}},
		{"not at once", expirer{false}, nil},
		{"says nothing", plainExecutor{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := (&Writer{Executor: tt.ex}).withoutRedundantFlush(actions)
			want := tt.want
			if want == nil {
				for _, x := range actions {
					want = append(want, string(x.Op)+" "+x.QueueID)
				}
			}
			var names []string
			for _, x := range got {
				names = append(names, string(x.Op)+" "+x.QueueID)
			}
			if len(names) != len(want) {
				t.Fatalf("planned %v, want %v", names, want)
			}
			for i := range want {
				if names[i] != want[i] {
					t.Errorf("planned %v, want %v", names, want)
					break
				}
			}
		})
	}
}
