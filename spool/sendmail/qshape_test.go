package sendmail_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestQshapeAgreesWithMailq queues a varied population with the real Sendmail (deferred,
// quarantined, lost, refused recipients) and checks the qshape views against mailq and
// mailq -qQ (quarantined mail), per domain: qshape counts the recipients they list, and
// qshape_senders the messages, by sender domain. Lost control files (mailq -qL) are not
// mail Sendmail delivers and count nowhere; no queue the MTA's Sendmail queue lacks
// (maildrop) has a row.
func TestQshapeAgreesWithMailq(t *testing.T) {
	sm := sendmailtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := sm.Populate(ctx, 300); err != nil {
		t.Fatal(err)
	}
	var listed []sendmailtest.Listed
	for _, extra := range [][]string{nil, {"-qQ"}} {
		msgs, err := sm.Mailq(ctx, extra...)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, msgs...)
	}
	sp, err := sendmail.Open(sm.Queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	db := testindex.Memory(t, sp).DB()
	rcpts, senders := map[string]int64{}, map[string]int64{}
	var pending int64
	for _, l := range listed {
		for _, r := range l.Recipients {
			rcpts[testindex.QshapeDomain(t, db, sendmailtest.Unbracket(r.Address))]++
		}
		if len(l.Recipients) > 0 {
			senders[testindex.QshapeDomain(t, db, sendmailtest.NullSender(l.Sender))]++
		}
		pending += int64(len(l.Recipients))
	}
	if pending == 0 {
		t.Fatal("mailq lists no recipient: the population did not queue")
	}
	for _, v := range []struct {
		view string
		want map[string]int64
	}{{"qshape", rcpts}, {"qshape_senders", senders}} {
		got, totals := testindex.QshapeByDomain(t, db, v.view)
		if !maps.Equal(got, v.want) {
			t.Errorf("%s by domain differs from mailq:\n got %v\nwant %v", v.view, got, v.want)
		}
		var sum, want int64
		for _, n := range totals {
			sum += n
		}
		for _, n := range v.want {
			want += n
		}
		if sum != want {
			t.Errorf("%s: TOTAL rows add up to %d, mailq lists %d", v.view, sum, want)
		}
		if _, ok := totals["maildrop"]; ok {
			t.Errorf("%s has a maildrop row on Sendmail's MTA queue: %v", v.view, totals)
		}
	}
	t.Logf("%d messages, %d recipients, %d recipient domains", len(listed), pending, len(rcpts))
}
