package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// otherDomain is the domain label of the deferred recipients outside the top domains. A real
// domain of that name is counted there too, so that no two series share a label.
const otherDomain = "other"

// domainCount is one series of mqsql_deferred_recipients.
type domainCount struct {
	domain     string
	recipients int64
}

// deferredDomainsQuery reads the top domains of undelivered recipients of deferred mail from
// the index's running total (deferred_domains), most first (ties by name): the first ?1 rows
// of its index deferred_domains_top, however many domains there are. deferredTotalQuery is
// their sum over every domain, from which the rest (domain="other") follows.
const (
	deferredDomainsQuery = `SELECT domain, recipients FROM deferred_domains
		WHERE recipients > 0 ORDER BY recipients DESC, domain LIMIT ?1`
	deferredTotalQuery = `SELECT recipients FROM deferred_total`
)

// readDeferredDomains returns the top domains of undelivered recipients in the deferred queue,
// most first (ties by name), then domain="other" with the rest (0 when there is none). It
// reads top+1 rows: a real domain named "other" among them is counted in the rest.
func readDeferredDomains(ctx context.Context, tx *sql.Tx, top int) ([]domainCount, error) {
	var total int64
	err := tx.QueryRowContext(ctx, deferredTotalQuery).Scan(&total)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("count deferred recipients: the index keeps no running totals (Index.KeepRunningTotals)")
	}
	if err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	rows, err := tx.QueryContext(ctx, deferredDomainsQuery, top+1)
	if err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	defer rows.Close()
	out := make([]domainCount, 0, top+1)
	rest := total
	for rows.Next() {
		var d domainCount
		if err := rows.Scan(&d.domain, &d.recipients); err != nil {
			return nil, fmt.Errorf("count deferred recipients: %w", err)
		}
		if d.domain == otherDomain || len(out) == top {
			continue
		}
		out = append(out, d)
		rest -= d.recipients
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	return append(out, domainCount{domain: otherDomain, recipients: rest}), nil
}
