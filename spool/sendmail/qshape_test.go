package sendmail_test

import (
	"context"
	"database/sql"
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
			rcpts[domainOf(t, db, sendmailtest.Unbracket(r.Address))]++
		}
		if len(l.Recipients) > 0 {
			senders[domainOf(t, db, sendmailtest.NullSender(l.Sender))]++
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
		got, totals := viewByDomain(t, db, v.view)
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

// domainOf files an address as the qshape views do (qshape_domain).
func domainOf(t *testing.T, db *sql.DB, addr string) string {
	t.Helper()
	var d string
	if err := db.QueryRow(`SELECT qshape_domain(?)`, addr).Scan(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// viewByDomain reads a qshape view: the totals by domain over all queues, and the TOTAL
// row of each queue.
func viewByDomain(t *testing.T, db *sql.DB, view string) (byDomain, totals map[string]int64) {
	t.Helper()
	rows, err := db.Query(`SELECT queue, domain, total FROM ` + view)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byDomain, totals = map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var queue, domain string
		var n int64
		if err := rows.Scan(&queue, &domain, &n); err != nil {
			t.Fatal(err)
		}
		if domain == "TOTAL" {
			totals[queue] = n
		} else {
			byDomain[domain] += n
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return byDomain, totals
}
