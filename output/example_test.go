package output_test

import (
	"os"

	"github.com/mqsql/mqsql/output"
)

// A Subject carrying a terminal escape sequence is shown, not obeyed.
func ExampleWrite() {
	opt := output.Options{Format: output.Table, Escape: true, NullValue: "NULL"}
	columns := []string{"queue_id", "size", "subject"}
	rows := [][]any{
		{"4F2A31C0B2", int64(2048), "\x1b]0;pwned\x07Invoice overdue"},
		{"7C11D40A09", int64(917), nil},
	}
	if err := output.Write(os.Stdout, opt, columns, rows); err != nil {
		panic(err)
	}
	// Output:
	// ┌────────────┬──────┬─────────────────────────────────┐
	// │  queue_id  │ size │             subject             │
	// ├────────────┼──────┼─────────────────────────────────┤
	// │ 4F2A31C0B2 │ 2048 │ \x1b]0;pwned\x07Invoice overdue │
	// │ 7C11D40A09 │  917 │ NULL                            │
	// └────────────┴──────┴─────────────────────────────────┘
}

// A Renderer takes one result set after another, writing rows as they come where the
// format allows.
func ExampleNew() {
	r := output.New(os.Stdout, output.Options{Format: output.JSON})
	for _, set := range []struct {
		columns []string
		rows    [][]any
	}{
		{[]string{"queue", "messages"}, [][]any{{"active", int64(3)}, {"deferred", int64(41)}}},
		{[]string{"queue_id"}, nil},
	} {
		if err := r.Begin(set.columns); err != nil {
			panic(err)
		}
		for _, row := range set.rows {
			if err := r.Row(row); err != nil {
				panic(err)
			}
		}
		if err := r.End(); err != nil {
			panic(err)
		}
	}
	// Output:
	// [{"queue":"active","messages":3},
	// {"queue":"deferred","messages":41}]
	// []
}
