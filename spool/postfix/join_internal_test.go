package postfix

import (
	"fmt"
	"testing"

	"github.com/mqsql/mqsql"
)

// TestJoinDeferLog checks the join both ways it runs: scanning, for a few recipients, and
// through indexes built once, for many. Both must match by offset first, give duplicate
// addresses logged without offsets to one recipient each, and keep unmatched entries.
func TestJoinDeferLog(t *testing.T) {
	for _, padding := range []int{0, 300} {
		t.Run(fmt.Sprintf("%d more recipients", padding), func(t *testing.T) {
			m := &mqsql.Message{Recipients: []mqsql.Recipient{
				{Address: "a@x.test", Offset: 10, Status: mqsql.Pending},
				{Address: "q r@x.test", Offset: 20, Status: mqsql.Pending},
				{Address: "a@x.test", Offset: 30, Status: mqsql.Pending},
				{Address: "d@x.test", Offset: 40, Status: mqsql.Done},
			}}
			for i := range padding {
				m.Recipients = append(m.Recipients, mqsql.Recipient{Address: fmt.Sprintf("p%d@x.test", i), Offset: int64(1000 + i), Status: mqsql.Pending})
			}
			entries := []LogEntry{
				{Recipient: "a@x.test", Offset: -1, Reason: "a one"},
				{Recipient: "a@x.test", Offset: -1, Reason: "a two"},
				{Recipient: `"q r"@x.test`, Offset: 20, Reason: "q r"},
				{Recipient: "d@x.test", Offset: 40, Reason: "d"},
			}
			joinDeferLog(m, entries)
			want := map[int]string{0: "a one", 1: "q r", 2: "a two", 4 + padding: "d"}
			for i, r := range m.Recipients {
				if r.DelayReason != want[i] || r.Deferred != (want[i] != "") {
					t.Errorf("recipient %d (%s at %d): reason %q, deferred %v; want %q", i, r.Address, r.Offset, r.DelayReason, r.Deferred, want[i])
				}
			}
			if n := len(m.Recipients); n != 5+padding {
				t.Errorf("%d recipients, want %d (the done one's entry added as its own)", n, 5+padding)
			}
		})
	}
}
