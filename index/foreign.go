package index

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mqsql/mqsql"
)

// ForeignError is returned by Open for a database mqsql did not write: rebuilding it would
// drop another program's tables, so it is left as it was.
type ForeignError struct {
	Path string
	// Names are the tables, views, indexes and triggers that are not mqsql's.
	Names []string
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%s is not an mqsql index (it holds %s): refusing to change it; keep the index in a new file", e.Path, strings.Join(e.Names, ", "))
}

// schemaNames are the tables and views every version of schema.sql has created. The first
// schema's four are still in today's, so the names of the current text cover all of them;
// a table that is ever renamed keeps its old name here.
var schemaNames = namesIn(mqsql.Schema)

var createName = regexp.MustCompile(`(?i)\bCREATE\s+(?:TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)`)

func namesIn(schema string) []string {
	var names []string
	for _, m := range createName.FindAllStringSubmatch(schema, -1) {
		names = append(names, strings.ToLower(m[1]))
	}
	return names
}

// checkOurs refuses a database holding anything that does not belong to a table or view
// of mqsql's schema; an empty database is fine. It only reads.
func (ix *Index) checkOurs(ctx context.Context) error {
	rows, err := ix.db.QueryContext(ctx, `SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return fmt.Errorf("read schema of %s: %w", ix.path, err)
	}
	defer rows.Close()
	var foreign []string
	for rows.Next() {
		var typ, name, table string
		if err := rows.Scan(&typ, &name, &table); err != nil {
			return fmt.Errorf("read schema of %s: %w", ix.path, err)
		}
		if !slices.Contains(schemaNames, strings.ToLower(table)) {
			foreign = append(foreign, typ+" "+name)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema of %s: %w", ix.path, err)
	}
	if len(foreign) > 0 {
		return &ForeignError{Path: ix.path, Names: foreign}
	}
	return nil
}
