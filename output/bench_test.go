package output_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/mqsql/mqsql/output"
)

// BenchmarkTable100k renders a 100,000-row queue listing as a box fitted to a terminal, the
// heaviest thing an interactive user can ask for: every cell is converted, escaped, measured
// and kept until the end.
func BenchmarkTable100k(b *testing.B) {
	columns := []string{"queue_id", "queue", "size", "arrival", "sender", "subject", "score"}
	rows := make([][]any, 100_000)
	for i := range rows {
		rows[i] = []any{
			fmt.Sprintf("4F%08X", i), "deferred", int64(1024 + i%50000), int64(1_767_000_000 + i),
			fmt.Sprintf("bounce-%d@example.com", i),
			fmt.Sprintf("Re: invoice %d — 請求書 🎉", i), float64(i) / 7,
		}
	}
	opt := output.Options{Format: output.Table, Escape: true, Width: 120, NullValue: "NULL"}
	b.ReportAllocs()
	for b.Loop() {
		if err := output.Write(io.Discard, opt, columns, rows); err != nil {
			b.Fatal(err)
		}
	}
}
