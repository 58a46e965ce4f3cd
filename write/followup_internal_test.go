package write

import (
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestFollowUp checks the second operation of a message (the flush of the one-statement
// expire): it runs only where the first one was done, and finds held mail where postsuper -f
// released it.
func TestFollowUp(t *testing.T) {
	w := &Writer{Spool: testspool.Open(t, testspool.Dir(t, "spool"))}
	reached := mqsql.Target{QueueID: "4jc86b0jCBz5bb9", Queue: mqsql.Hold, Inode: 1, Path: "hold/4jc86b0jCBz5bb9"}
	missed := mqsql.Target{QueueID: "4jc7PP1W6fzdXSJ", Queue: mqsql.Hold, Inode: 2, Path: "hold/4jc7PP1W6fzdXSJ"}
	earlier := map[targetKey]mqsql.Outcome{
		keyOf(reached): {Action: mqsql.Action{Target: reached, Op: mqsql.OpExpireRelease}, Result: mqsql.Applied},
		keyOf(missed):  {Action: mqsql.Action{Target: missed, Op: mqsql.OpExpireRelease}, Result: mqsql.Skipped, Detail: "gone"},
	}
	queue, ready, notReady := w.followUp(Group{Op: mqsql.OpFlush, Queue: mqsql.Hold, Targets: []mqsql.Target{reached, missed}}, earlier)
	if queue != mqsql.Deferred || len(ready) != 1 || ready[0].Queue != mqsql.Deferred || !strings.HasPrefix(ready[0].Path, "deferred/") || !strings.HasSuffix(ready[0].Path, "/4jc86b0jCBz5bb9") {
		t.Errorf("ready in %s: %+v; want the released message in deferred", queue, ready)
	}
	if len(notReady) != 1 || notReady[0].QueueID != missed.QueueID || notReady[0].Result != mqsql.Skipped || !strings.Contains(notReady[0].Detail, "expire-release was not: gone") {
		t.Errorf("not ready: %+v", notReady)
	}
	first := mqsql.Target{QueueID: "4jc7R74XMszdZL1", Queue: mqsql.Deferred, Path: "deferred/9/4jc7R74XMszdZL1"}
	if q, ready, _ := w.followUp(Group{Op: mqsql.OpFlush, Queue: mqsql.Deferred, Targets: []mqsql.Target{first}}, earlier); q != mqsql.Deferred || len(ready) != 1 || ready[0] != first {
		t.Errorf("a first operation is not changed: %s %+v", q, ready)
	}
}
