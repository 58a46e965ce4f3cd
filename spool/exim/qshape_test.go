package exim_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/eximtest"
	"github.com/mqsql/mqsql/internal/testindex"
)

// TestQshapeAgreesWithEximBP queues a varied population with the real Exim (deferred,
// partly delivered, frozen, in a named queue) and checks the qshape views against exim -bp
// (and -qGslowq -bp), per domain: qshape counts the pending recipients exim lists, and
// qshape_senders the messages with a pending recipient, by sender domain. Their TOTAL rows
// add up to the same, and no queue Exim lacks (maildrop) has a row.
func TestQshapeAgreesWithEximBP(t *testing.T) {
	e := eximtest.Require(t, false)
	e.Populate(t, 300)
	listed := append(listBP(t, e, "-bp"), listBP(t, e, "-qGslowq", "-bp")...)
	sp := openSpool(t, e.Spool)
	db := testindex.Memory(t, sp).DB()
	rcpts, senders := map[string]int64{}, map[string]int64{}
	var pending int64
	for _, m := range listed {
		n := int64(0)
		for _, r := range m.Recipients {
			if strings.HasPrefix(r, "D ") || strings.HasPrefix(r, "+D ") {
				continue
			}
			rcpts[testindex.QshapeDomain(t, db, strings.TrimSpace(r))]++
			n++
		}
		if n > 0 {
			senders[testindex.QshapeDomain(t, db, m.Sender)]++
		}
		pending += n
	}
	if pending == 0 {
		t.Fatal("exim -bp lists no pending recipient: the population did not queue")
	}
	for _, v := range []struct {
		view string
		want map[string]int64
	}{{"qshape", rcpts}, {"qshape_senders", senders}} {
		got, totals := testindex.QshapeByDomain(t, db, v.view)
		if !maps.Equal(got, v.want) {
			t.Errorf("%s by domain differs from exim -bp:\n got %v\nwant %v", v.view, got, v.want)
		}
		if sum(totals) != sum(v.want) {
			t.Errorf("%s: TOTAL rows add up to %d, exim -bp lists %d", v.view, sum(totals), sum(v.want))
		}
		if _, ok := totals["maildrop"]; ok {
			t.Errorf("%s has a maildrop row on Exim: %v", v.view, totals)
		}
	}
	t.Logf("%d messages, %d pending recipients, %d recipient domains", len(listed), pending, len(rcpts))
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n += m[k]
	}
	return n
}
