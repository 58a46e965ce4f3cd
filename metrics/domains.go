package metrics

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// otherDomain is the domain label of the deferred recipients outside the top domains. A real
// domain of that name is counted there too, so that no two series share a label.
const otherDomain = "other"

// domainCount is one series of mqsql_deferred_recipients.
type domainCount struct {
	domain     string
	recipients int64
}

// deferredDomainsQuery reads the undelivered recipients of deferred mail by domain from the
// index's running total (deferred_domains), every domain: one row per domain, where counting
// the recipients themselves cost about 250 ms at 100,000 messages, most of a scrape.
const deferredDomainsQuery = `SELECT domain, recipients FROM deferred_domains WHERE recipients > 0`

// readDeferredDomains returns the top domains of undelivered recipients in the deferred queue,
// most first (ties by name), then domain="other" with the rest (0 when there is none).
func readDeferredDomains(ctx context.Context, tx *sql.Tx, top int) ([]domainCount, error) {
	rows, err := tx.QueryContext(ctx, deferredDomainsQuery)
	if err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	defer rows.Close()
	var all []domainCount
	var rest int64
	for rows.Next() {
		var d domainCount
		if err := rows.Scan(&d.domain, &d.recipients); err != nil {
			return nil, fmt.Errorf("count deferred recipients: %w", err)
		}
		if d.domain == otherDomain {
			rest += d.recipients
			continue
		}
		all = append(all, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	slices.SortFunc(all, func(a, b domainCount) int {
		if c := cmp.Compare(b.recipients, a.recipients); c != 0 {
			return c
		}
		return strings.Compare(a.domain, b.domain)
	})
	if len(all) > top {
		for _, d := range all[top:] {
			rest += d.recipients
		}
		all = all[:top]
	}
	return append(all, domainCount{domain: otherDomain, recipients: rest}), nil
}
