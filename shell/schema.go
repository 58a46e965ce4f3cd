package shell

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// tableNames lists the tables and views of the index, for .tables and completion.
func tableNames(s *Session) []string {
	names, _ := s.objectNames(context.Background(), "%")
	return names
}

// objectNames returns the tables and views whose names are LIKE pattern, sorted, the
// session's TEMP ones included (but not mqsql's own plan table): .tables and completion both
// offer what a statement can name.
func (s *Session) objectNames(ctx context.Context, pattern string) ([]string, error) {
	rows, err := s.Conn.QueryContext(ctx, `SELECT name FROM sqlite_schema
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name LIKE ?1
		UNION SELECT name FROM sqlite_temp_schema WHERE type IN ('table', 'view') AND name LIKE ?1
		AND name NOT LIKE 'mqsql\_%' ESCAPE '\'`, pattern)
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
		names = append(names, n)
	}
	sort.Strings(names)
	return names, rows.Err()
}

// dotTables lists tables and views in columns, as sqlite3 does.
func dotTables(s *Session, ctx context.Context, args []string, _ int) error {
	pattern := "%"
	if len(args) == 1 {
		pattern = args[0]
	}
	names, err := s.objectNames(ctx, pattern)
	if err != nil {
		return err
	}
	return s.writeText(columns(names, s.Opt.Width))
}

// columns lays names out in as many columns as fit in width (80 when 0), filled down first.
func columns(names []string, width int) string {
	if len(names) == 0 {
		return ""
	}
	if width <= 0 {
		width = 80
	}
	w := 0
	for _, n := range names {
		w = max(w, len(n))
	}
	w += 2
	cols := max(1, width/w)
	rows := (len(names) + cols - 1) / cols
	var b strings.Builder
	for r := range rows {
		line := ""
		for c := range cols {
			if i := c*rows + r; i < len(names) {
				line += fmt.Sprintf("%-*s", w, names[i])
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

// dotSchema prints the CREATE statements of the tables and views (and their indexes) whose
// names are LIKE the pattern, in the order they were created.
func dotSchema(s *Session, ctx context.Context, args []string, _ int) error {
	pattern := "%"
	if len(args) == 1 {
		pattern = args[0]
	}
	rows, err := s.Conn.QueryContext(ctx, `SELECT sql FROM sqlite_schema
		WHERE sql IS NOT NULL AND tbl_name NOT LIKE 'sqlite\_%' ESCAPE '\' AND (name LIKE ?1 OR tbl_name LIKE ?1)
		ORDER BY rowid`, pattern)
	if err != nil {
		return err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var sqlText string
		if err := rows.Scan(&sqlText); err != nil {
			return err
		}
		b.WriteString(sqlText + ";\n")
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return s.writeText(b.String())
}
