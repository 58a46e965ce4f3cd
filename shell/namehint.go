package shell

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// unknownName finds the name in SQLite's "no such column: X" and "no such table: X" errors.
// SQLite reports both with the generic code SQLITE_ERROR and no field naming what is
// unknown, so its message is all there is to go on.
var unknownName = regexp.MustCompile(`no such (column|table): ([^\s()]+)`)

// withNameHint adds to err, when it is SQLite's error for an unknown column or table, the
// closest names the index has ("did you mean sender?"). The REPL, scripts and one-shot runs
// all get it, through Exec.
func (s *Session) withNameHint(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	m := unknownName.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	kind, name := m[1], m[2]
	if i := strings.LastIndex(name, "."); i >= 0 {
		name = name[i+1:] // m.sendr: the column's own name
	}
	names, nerr := s.schemaNames(ctx, kind == "column")
	if nerr != nil {
		return err
	}
	closest := closestNames(name, names)
	if len(closest) == 0 {
		return err
	}
	return fmt.Errorf("%w (did you mean %s?)", err, strings.Join(closest, " or "))
}

// schemaNames lists the index's tables and views, or their columns, in main and temp. The
// columns are those a query of each returns (LIMIT 0 reads no row), since the session's
// guard allows no PRAGMA.
func (s *Session) schemaNames(ctx context.Context, columns bool) ([]string, error) {
	tables, err := s.tableNames(ctx)
	if err != nil || !columns {
		return tables, err
	}
	var names []string
	for _, t := range tables {
		rows, err := s.Conn.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(t, `"`, `""`)+`" LIMIT 0`)
		if err != nil {
			continue // a table this session may not read has no names to offer
		}
		cols, err := rows.Columns()
		rows.Close()
		if err == nil {
			names = append(names, cols...)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// tableNames lists the index's tables and views, in main and temp, but SQLite's own.
func (s *Session) tableNames(ctx context.Context) ([]string, error) {
	rows, err := s.Conn.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')
		UNION SELECT name FROM sqlite_temp_schema WHERE type IN ('table', 'view')`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(n, "sqlite_") {
			names = append(names, n)
		}
	}
	return names, rows.Err()
}

// closestNames are the names nearest to name by edit distance (case-insensitive), at most
// three, and only those close enough to be a typo: a third of the name's length, at least 1.
func closestNames(name string, names []string) []string {
	limit := max(len(name)/3, 1)
	best := limit + 1
	var out []string
	for _, n := range names {
		d := editDistance(strings.ToLower(name), strings.ToLower(n))
		switch {
		case d == 0 || d > best:
		case d < best:
			best, out = d, []string{n}
		default:
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out[:min(len(out), 3)]
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
