package testindex

import (
	"database/sql"
	"testing"
)

// QshapeDomain files an address as the qshape views do (qshape_domain), so that a test can
// count an MTA's own listing by the views' domains.
func QshapeDomain(t testing.TB, db *sql.DB, addr string) string {
	t.Helper()
	var d string
	if err := db.QueryRow(`SELECT qshape_domain(?)`, addr).Scan(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// QshapeByDomain reads a qshape view (qshape, qshape_senders): the totals by domain over all
// queues, and the TOTAL row of each queue.
func QshapeByDomain(t testing.TB, db *sql.DB, view string) (byDomain, totals map[string]int64) {
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
