package maillog_test

import (
	"context"
	"os"
	"testing"

	"github.com/mqsql/mqsql/spool/postfix"
)

// BenchmarkReadPostfix reads the file MQSQL_BENCH_LOG names (bench/genlog's output) into a
// new in-memory index per run.
func BenchmarkReadPostfix(b *testing.B) {
	file := os.Getenv("MQSQL_BENCH_LOG")
	if file == "" {
		b.Skip("MQSQL_BENCH_LOG names no log")
	}
	for range b.N {
		r, _ := newReader(&testing.T{}, &postfix.Driver{})
		r.Retention = 1 << 62
		st, err := r.ReadFiles(context.Background(), []string{file})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Lines)/b.Elapsed().Seconds(), "lines/s")
	}
}
