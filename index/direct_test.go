package index_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/exim"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// directCorpus is the statements a direct database must answer exactly as an index does:
// whole tables, the columns a walk alone gives, joins both ways, the views, functions,
// pushed-down queue and queue_id constraints (IN lists, subqueries, numbers, unknown IDs),
// and damaged files.
var directCorpus = []string{
	`SELECT * FROM messages`,
	`SELECT * FROM recipients`,
	`SELECT queue_id, queue, arrival_time, size, sender, forced_expire, recipient_count, next_attempt,
		subject, from_header, message_id, client_address, helo_name, sasl_username, file_size, inode,
		path, error, mode, mtime_ns, log_size, log_mtime_ns, log_ident, hold_reason, queue_name FROM queue_files`,
	`SELECT queue_id, address, orig_address, domain, status, delay_reason, dsn_status, diag_text, offset FROM queue_recipients`,
	`SELECT count(*) FROM messages`,
	`SELECT queue_id, path, file_size, inode FROM messages`,
	`SELECT queue, count(*) FROM messages GROUP BY queue`,
	`SELECT sender, count(*) FROM messages GROUP BY sender`,
	`SELECT domain(sender), human_size(size), count(*), sum(recipient_count) FROM messages GROUP BY 1, 2`,
	`SELECT m.queue_id, m.queue, m.sender, r.address, r.status, r.delay_reason FROM messages m JOIN recipients r USING (queue_id)`,
	`SELECT r.*, m.queue FROM recipients r JOIN messages m USING (queue_id) WHERE m.queue = 'deferred'`,
	`SELECT m.queue_id, (SELECT count(*) FROM recipients r WHERE r.queue_id = m.queue_id) FROM messages m`,
	`SELECT count(*), count(DISTINCT f.id) FROM queue_files f JOIN queue_recipients r ON r.file_id = f.id`,
	`SELECT * FROM qshape`,
	`SELECT * FROM qshape WHERE queue = 'deferred'`,
	`SELECT * FROM qshape_senders`,
	`SELECT * FROM reasons`,
	`SELECT * FROM senders`,
	`SELECT * FROM messages WHERE queue = 'hold'`,
	`SELECT queue_id FROM messages WHERE queue = 'deferred'`,
	`SELECT * FROM messages WHERE queue IN ('hold', 'corrupt', 'deferred')`,
	`SELECT * FROM messages WHERE queue_id IN (SELECT queue_id FROM messages)`,
	`SELECT * FROM recipients WHERE queue_id IN (SELECT queue_id FROM messages WHERE queue != 'active')`,
	`SELECT queue_id, queue, path FROM messages WHERE queue_id IN (SELECT queue_id FROM messages)`,
	`SELECT * FROM messages WHERE queue_id = 'NOSUCHID'`,
	`SELECT * FROM messages WHERE queue_id = 12345 OR queue_id IS NULL`,
	`SELECT queue_id, error FROM messages WHERE error IS NOT NULL`,
	`SELECT queue_id, header(queue_id, 'Subject') FROM messages WHERE queue != 'corrupt'`,
	`SELECT queue_id, age(arrival_time) FROM messages`,
	`SELECT count(*) FROM (SELECT * FROM messages LIMIT 2)`,
	`SELECT * FROM recipients WHERE queue_id = (SELECT min(queue_id) FROM messages)`,
	`WITH q AS (SELECT queue, count(*) n FROM messages GROUP BY queue) SELECT * FROM q WHERE n > 0`,
}

// TestDirectAgreesWithIndex runs directCorpus through an index and through a direct database
// of the same sample spools of all three MTAs, and compares the results row for row.
func TestDirectAgreesWithIndex(t *testing.T) {
	clock := index.WithClock(mqsql.FixedClock(time.Unix(1795865448, 0)))
	spools := []struct {
		name string
		open func(t *testing.T) mqsql.Spool
	}{
		{"postfix", func(t *testing.T) mqsql.Spool {
			return testspool.Open(t, testspool.Copy(t, testspool.Dir(t, "spool")))
		}},
		{"sendmail", func(t *testing.T) mqsql.Spool { return openSendmail(t, "../testdata/sendmail/mqueue") }},
		{"exim", func(t *testing.T) mqsql.Spool { return openExim(t, "../spool/exim/testdata/exim/spool") }},
		{"exim-damaged", func(t *testing.T) mqsql.Spool { return openExim(t, "../spool/exim/testdata/exim/spool-damaged") }},
		{"exim-extras", func(t *testing.T) mqsql.Spool { return openExim(t, "../spool/exim/testdata/exim/spool-extras") }},
		{"exim-split", func(t *testing.T) mqsql.Spool { return openExim(t, "../spool/exim/testdata/exim/spool-split") }},
	}
	for _, s := range spools {
		t.Run(s.name, func(t *testing.T) {
			sp := s.open(t)
			ix := testindex.Memory(t, sp, clock)
			direct, err := index.OpenDirect(context.Background(), sp, clock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { direct.Close() })
			if n := len(queryRows(t, ix.DB(), `SELECT * FROM messages`)); n == 0 {
				t.Fatalf("the sample spool has %d messages", n)
			}
			for _, q := range directCorpus {
				want, got := queryRows(t, ix.DB(), q), queryRows(t, direct.DB(), q)
				if !slices.Equal(want, got) {
					t.Errorf("%s\nindex:  %d rows %q\ndirect: %d rows %q", q, len(want), want, len(got), got)
				}
			}
		})
	}
}

// queryRows runs q and returns its rows, each with its values' types, sorted: the corpus
// compares sets of rows, since neither an index nor a walk promises an order.
func queryRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			fmt.Fprintf(&b, "%T:%v|", v, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	slices.Sort(out)
	return out
}

func openSendmail(t *testing.T, dir string) mqsql.Spool {
	t.Helper()
	sp, err := sendmail.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

func openExim(t *testing.T, dir string) mqsql.Spool {
	t.Helper()
	sp, err := exim.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

// TestDirectReadable: only statements that read, and only tables a direct database has, are
// answered without an index.
func TestDirectReadable(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{`SELECT * FROM messages`, true},
		{`select count(*) from recipients; SELECT 1;`, true},
		{`WITH x AS (SELECT queue_id FROM messages) SELECT * FROM x`, true},
		{`VALUES (1)`, true},
		{`SELECT 'events' FROM messages -- events`, true},
		{`SELECT * FROM events`, false},
		{`SELECT * FROM "events"`, false},
		{`SELECT * FROM messages; SELECT * FROM intents`, false},
		{`SELECT * FROM queues`, true},
		{`SELECT * FROM qshape`, true},
		{`SELECT count(*) FROM deliveries`, false},
		{`SELECT count(*) FROM delivered`, false},
		{`SELECT * FROM timeline WHERE queue_id = 'X'`, false},
		{`DELETE FROM messages WHERE queue = 'hold'`, false},
		{`WITH x AS (SELECT 1) DELETE FROM messages`, false},
		{`UPDATE messages SET queue = 'hold'`, false},
		{`PRAGMA table_info(messages)`, false},
		{`.cat X`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := index.DirectReadable(tt.sql); got != tt.want {
			t.Errorf("DirectReadable(%q) = %t, want %t", tt.sql, got, tt.want)
		}
	}
}
