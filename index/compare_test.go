package index_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/postfixtest"
)

// shown is how postqueue shows an address from a queue file: MAILER-DAEMON for the null
// sender, the local part quoted when needed, non-printable bytes as '?'.
func shown(addr string, isSender bool) string {
	if addr == "" && isSender {
		return "MAILER-DAEMON"
	}
	var b strings.Builder
	for _, r := range mqsql.QuoteLocal(addr) {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

type indexed struct {
	queue, id     string
	arrival, size int64
	forced        bool
	sender        string
	count         int
	rcpts         []postfixtest.Recipient
}

// loadIndexed reads messages and pending recipients back from an index, in postqueue's terms.
func loadIndexed(t *testing.T, db *sql.DB) map[string]*indexed {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT queue, queue_id, arrival_time, size, forced_expire, sender, recipient_count FROM messages WHERE queue != 'corrupt'`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*indexed{}
	for rows.Next() {
		m := &indexed{}
		if err := rows.Scan(&m.queue, &m.id, &m.arrival, &m.size, &m.forced, &m.sender, &m.count); err != nil {
			t.Fatal(err)
		}
		key := m.queue + "/" + m.id
		if got[key] != nil {
			t.Errorf("message %s indexed twice", key)
		}
		got[key] = m
	}
	rows.Close()
	rrows, err := db.QueryContext(ctx, `SELECT m.queue, r.queue_id, r.address, coalesce(r.delay_reason, '')
		FROM recipients r JOIN messages m USING (queue_id) WHERE r.status = 'pending' AND m.queue != 'corrupt'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var q, id, addr, reason string
		if err := rrows.Scan(&q, &id, &addr, &reason); err != nil {
			t.Fatal(err)
		}
		if m := got[q+"/"+id]; m != nil {
			m.rcpts = append(m.rcpts, postfixtest.Recipient{Address: shown(addr, false), DelayReason: reason})
		}
	}
	return got
}

// postqueueView applies showq's listing rule to indexed recipients: recipients with a defer-log
// entry first, then the others unless their address was already listed with a reason.
func postqueueView(rs []postfixtest.Recipient) []postfixtest.Recipient {
	withReason := map[string]bool{}
	var out []postfixtest.Recipient
	for _, r := range rs {
		if r.DelayReason != "" {
			withReason[r.Address] = true
			out = append(out, r)
		}
	}
	for _, r := range rs {
		if r.DelayReason == "" && !withReason[r.Address] {
			out = append(out, r)
		}
	}
	return out
}

func sortRecipients(rs []postfixtest.Recipient) []postfixtest.Recipient {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b postfixtest.Recipient) int {
		return strings.Compare(a.Address+"\x00"+a.DelayReason, b.Address+"\x00"+b.DelayReason)
	})
	return rs
}

// compareWithPostqueue asserts that the index holds exactly the messages postqueue -j listed,
// with equal fields, and the same pending recipients with the same delay reasons.
func compareWithPostqueue(t *testing.T, db *sql.DB, entries []postfixtest.Entry) {
	t.Helper()
	got := loadIndexed(t, db)
	seen := map[string]bool{}
	mismatches := 0
	report := func(format string, args ...any) {
		mismatches++
		if mismatches <= 20 {
			t.Errorf(format, args...)
		}
	}
	for _, e := range entries {
		key := e.QueueName + "/" + e.QueueID
		seen[key] = true
		m := got[key]
		if m == nil {
			report("%s: listed by postqueue, missing from the index", key)
			continue
		}
		if m.arrival != e.ArrivalTime || m.size != e.MessageSize || m.forced != e.ForcedExpire || shown(m.sender, true) != e.Sender {
			report("%s: index has arrival %d size %d forced %v sender %q; postqueue %d %d %v %q",
				key, m.arrival, m.size, m.forced, shown(m.sender, true), e.ArrivalTime, e.MessageSize, e.ForcedExpire, e.Sender)
		}
		if m.count != len(m.rcpts) {
			report("%s: recipient_count %d but %d pending recipient rows", key, m.count, len(m.rcpts))
		}
		want := sortRecipients(e.Recipients)
		have := sortRecipients(postqueueView(m.rcpts))
		if !slices.Equal(want, have) {
			report("%s: recipients differ\nindex:     %v\npostqueue: %v", key, have, want)
		}
	}
	for key := range got {
		if !seen[key] {
			report("%s: in the index but not listed by postqueue", key)
		}
	}
	if mismatches > 20 {
		t.Errorf("... %d mismatches in all", mismatches)
	}
	t.Logf("compared %d messages with postqueue -j: %d mismatches", len(entries), mismatches)
	if len(entries) == 0 {
		t.Error("postqueue listed nothing: the comparison proves nothing")
	}
}
