package metrics

import (
	"context"
	"database/sql"
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

const deferredTotalQuery = `SELECT count(*) FROM queue_recipients r JOIN queue_files f ON f.id = r.file_id
	WHERE f.queue = 'deferred' AND r.status = 'pending'`

const deferredTopQuery = `SELECT r.domain, count(*) AS n FROM queue_recipients r JOIN queue_files f ON f.id = r.file_id
	WHERE f.queue = 'deferred' AND r.status = 'pending' AND r.domain <> 'other'
	GROUP BY r.domain ORDER BY n DESC, r.domain LIMIT ?`

// readDeferredDomains returns the top domains of undelivered recipients in the deferred queue,
// most first, then domain="other" with the rest (0 when there is none).
func readDeferredDomains(ctx context.Context, tx *sql.Tx, top int) ([]domainCount, error) {
	var total int64
	if err := tx.QueryRowContext(ctx, deferredTotalQuery).Scan(&total); err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	rows, err := tx.QueryContext(ctx, deferredTopQuery, top)
	if err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	defer rows.Close()
	var out []domainCount
	rest := total
	for rows.Next() {
		var d domainCount
		if err := rows.Scan(&d.domain, &d.recipients); err != nil {
			return nil, fmt.Errorf("count deferred recipients: %w", err)
		}
		out = append(out, d)
		rest -= d.recipients
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count deferred recipients: %w", err)
	}
	return append(out, domainCount{domain: otherDomain, recipients: rest}), nil
}
