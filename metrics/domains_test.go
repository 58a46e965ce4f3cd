package metrics_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/metrics"
)

// TestTopDeferredDomains checks mqsql_deferred_recipients on a deferred queue of 1,000
// domains, which the scrape reads as the first rows of an index and a kept sum: the top
// domains by recipients (ties by name) and domain="other" with the rest equal the recipients
// counted by hand, also when a real domain named "other" is among the busiest (it is counted
// in the rest) and when undelivered recipients leave.
func TestTopDeferredDomains(t *testing.T) {
	ix := sampleIndex(t)
	addDeferredDomains(t, ix, 1000)
	for _, top := range []int{1, 3, 20} {
		c := metrics.NewCollector(context.Background(), ix, metrics.Options{TopDomains: top})
		got := domainLines(scrape(t, c))
		want := domainsByHand(t, ix, top)
		if !slices.Equal(got, want) {
			t.Errorf("top %d:\n got %v\nwant %v", top, got, want)
		}
		if !strings.Contains(strings.Join(want, " "), `"other"} `) || len(want) != top+1 {
			t.Fatalf("top %d: the rows give %v: the test proves nothing", top, want)
		}
	}
}

// addDeferredDomains adds deferred mail to n domains, the busiest ones first, a hundred
// sharing each count, the busiest of all named "other"; then some of it leaves.
func addDeferredDomains(t *testing.T, ix *index.Index, n int) {
	t.Helper()
	db := ix.DB()
	if _, err := db.Exec(`INSERT INTO queue_files (id, queue_id, queue, arrival_time, size, sender, forced_expire,
		recipient_count, next_attempt, file_size, inode, path, mode, mtime_ns)
		VALUES (900000, 'DOMAINS', 'deferred', 1795000000, 1000, '', 0, 0, 0, 1000, 900000, 'deferred/D/DOMAINS', 448, 0)`); err != nil {
		t.Fatal(err)
	}
	// Domain i has 1 + (n-i)/100 recipients (domain 1, "other", has n), every third done.
	if _, err := db.Exec(`WITH RECURSIVE d(i, domain, count) AS (
			SELECT 0, 'd0000.test', 1 + ?1 / 100
			UNION ALL SELECT i + 1, iif(i + 1 = 1, 'other', printf('d%04d.test', i + 1)), iif(i + 1 = 1, ?1, 1 + (?1 - i - 1) / 100)
			FROM d WHERE i + 1 < ?1),
		r(i, domain, j) AS (SELECT i, domain, 0 FROM d UNION ALL SELECT r.i, r.domain, j + 1 FROM r JOIN d USING (i) WHERE j + 1 < d.count)
		INSERT INTO queue_recipients (file_id, queue_id, address, domain, status, offset)
		SELECT 900000, 'DOMAINS', 'u' || j || '@' || domain, domain, iif(j % 3 = 2, 'done', 'pending'), 0 FROM r`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM queue_recipients WHERE file_id = 900000 AND domain LIKE 'd000%' AND status = 'pending' AND address LIKE 'u1@%'`); err != nil {
		t.Fatal(err)
	}
}

// domainLines are the mqsql_deferred_recipients lines of a scrape.
func domainLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "mqsql_deferred_recipients{") {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

// domainsByHand counts the undelivered recipients of deferred mail per domain from the rows
// and renders the top domains and the rest as the scrape should.
func domainsByHand(t *testing.T, ix *index.Index, top int) []string {
	t.Helper()
	rows, err := ix.DB().Query(`SELECT r.domain, count(*) FROM queue_recipients r JOIN queue_files f ON f.id = r.file_id
		WHERE f.queue = 'deferred' AND r.status = 'pending' GROUP BY r.domain`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type count struct {
		domain string
		n      int
	}
	var all []count
	rest := 0
	for rows.Next() {
		var c count
		if err := rows.Scan(&c.domain, &c.n); err != nil {
			t.Fatal(err)
		}
		if c.domain == "other" {
			rest += c.n
			continue
		}
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b count) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.domain, b.domain)) })
	var out []string
	for i, c := range all {
		if i < top {
			out = append(out, fmt.Sprintf(`mqsql_deferred_recipients{domain=%q} %d`, c.domain, c.n))
		} else {
			rest += c.n
		}
	}
	out = append(out, fmt.Sprintf(`mqsql_deferred_recipients{domain="other"} %d`, rest))
	slices.Sort(out)
	return out
}
