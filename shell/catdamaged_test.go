package shell_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestCatDamaged checks that .cat on a message the index lists but cannot read says that it
// is damaged, what the MTA's listing shows of it and what to do, in the MTA's own words, and
// never that it was delivered, deleted or moved. On each MTA's sample spool that has one
// (Sendmail's reader shows a lost Qf file as it is, which is no error).
func TestCatDamaged(t *testing.T) {
	ctx := context.Background()
	checked := 0
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			var out bytes.Buffer
			sp := s.OpenCopy(t)
			sess := dryRunSession(t, sp, &out)
			var id string
			err := sess.Conn.QueryRowContext(ctx, `SELECT queue_id FROM messages WHERE queue = 'corrupt' OR error <> '' ORDER BY queue = 'corrupt' DESC, queue_id LIMIT 1`).Scan(&id)
			if err != nil {
				t.Skipf("the %s sample has no damaged message: %v", s.MTA, err)
			}
			sess.RunScript(ctx, strings.NewReader(".cat "+id+"\n"))
			got := out.String()
			if !strings.Contains(got, "Error:") {
				return // the MTA's reader shows what the file holds (Sendmail's Qf)
			}
			checked++
			t.Logf(".cat %s: %s", id, got)
			if strings.Contains(got, "delivered, deleted or moved") || !strings.Contains(got, id+": damaged") ||
				!strings.Contains(got, sp.Meaning().CorruptSkip) || !strings.Contains(got, sp.Meaning().MTA) {
				t.Errorf(".cat %s:\n%s", id, got)
			}
		})
	}
	if checked == 0 {
		t.Fatal("no sample has a damaged message: the test checks nothing")
	}
}
