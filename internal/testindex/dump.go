package testindex

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// Dump runs query on db and renders its rows one a line, columns separated by " | ", NULL
// as NULL and text quoted, so that a golden file tells NULL from ”. Every value that is a
// key of names (a queue ID) is replaced by its name, and the lines are sorted: IDs and order
// the MTA chose do not reach the golden file.
func Dump(t testing.TB, db *sql.DB, query string, names map[string]string) []byte {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, dumpRow(vals, names))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return []byte(strings.Join(cols, " | ") + "\n" + strings.Join(lines, "\n") + "\n")
}

func dumpRow(vals []any, names map[string]string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
			out[i] = "NULL"
		case string:
			if n, ok := names[v]; ok {
				v = n
			}
			out[i] = fmt.Sprintf("%q", v)
		case []byte:
			out[i] = fmt.Sprintf("%q", v)
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(out, " | ")
}
