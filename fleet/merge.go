package fleet

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // the merge database, in memory
)

// MergeTable is the table a --merge statement reads: HostColumn and the first statement's
// columns, one row per host's row.
const MergeTable = "fleet"

// Merge runs stmt over cols and rows loaded into the table fleet of a new in-memory SQLite
// database, read-only once loaded, and returns its result. The columns have no declared
// type, so each value keeps the type its host gave it (an integer sums as an integer).
func Merge(ctx context.Context, cols []string, rows [][]any, stmt string) ([]string, [][]any, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, nil, fmt.Errorf("merge: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: each :memory: connection is its own database
	if err := load(ctx, db, cols, rows); err != nil {
		return nil, nil, fmt.Errorf("merge: loading table %s: %w", MergeTable, err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA query_only = ON"); err != nil {
		return nil, nil, fmt.Errorf("merge: %w", err)
	}
	return query(ctx, db, stmt)
}

// load creates the table fleet and inserts rows in one transaction.
func load(ctx context.Context, db *sql.DB, cols []string, rows [][]any) error {
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		marks[i] = "?"
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE "+MergeTable+" ("+strings.Join(names, ", ")+")"); err != nil {
		return err
	}
	ins, err := tx.PrepareContext(ctx, "INSERT INTO "+MergeTable+" VALUES ("+strings.Join(marks, ", ")+")")
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, r := range rows {
		if _, err := ins.ExecContext(ctx, r[:len(cols)]...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// query runs the merge statement and gathers its result.
func query(ctx context.Context, db *sql.DB, stmt string) ([]string, [][]any, error) {
	rs, err := db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, nil, fmt.Errorf("merge: %w", err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, nil, fmt.Errorf("merge: %w", err)
	}
	var out [][]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, nil, fmt.Errorf("merge: %w", err)
		}
		out = append(out, vals)
	}
	if err := rs.Err(); err != nil {
		return nil, nil, fmt.Errorf("merge: %w", err)
	}
	return cols, out, nil
}
