package maillog_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
)

// TestViews reads each MTA's real log and prints the timeline and delivered views over it:
// the same questions asked of three MTAs' logs.
func TestViews(t *testing.T) {
	for _, m := range mtas {
		t.Run(m.name, func(t *testing.T) {
			r, ix := newReader(t, m.lr)
			if _, err := r.ReadFiles(context.Background(), []string{copyOf(t, m.file)}); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, q := range []string{"SELECT * FROM timeline", "SELECT * FROM delivered"} {
				fmt.Fprintf(&b, "-- %s\n", q)
				dump(t, ix.DB(), q, &b)
			}
			golden.Check(t, "views-"+m.name, []byte(b.String()))
		})
	}
}

// dump writes the rows of query as "col=value" lines.
func dump(t *testing.T, db *sql.DB, query string, b *strings.Builder) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			if vals[i] != nil {
				fmt.Fprintf(b, "%s=%v ", c, vals[i])
			}
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
