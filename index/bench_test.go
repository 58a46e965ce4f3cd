package index_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/spoolgen"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// benchMessages is the size of the generated spool the benchmarks index: 20,000 by default,
// MQSQL_BENCH_MESSAGES to change it. MQSQL_BENCH_SPOOL names an existing spool to use instead
// (e.g. one written by bench/genspool), so big runs need not regenerate it.
func benchSpool(b *testing.B) (dir string, messages int) {
	b.Helper()
	if dir := os.Getenv("MQSQL_BENCH_SPOOL"); dir != "" {
		return dir, 0
	}
	n := 20000
	if s := os.Getenv("MQSQL_BENCH_MESSAGES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("MQSQL_BENCH_MESSAGES=%q: %v", s, err)
		}
	}
	dir = b.TempDir()
	sum, err := spoolgen.Generate(context.Background(), dir, spoolgen.Options{Messages: n, Seed: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return dir, sum.Messages
}

// sync indexes sp into a new index at path ("" = in memory) and reports per-message cost.
func benchSync(b *testing.B, ix *index.Index, sp *postfix.Spool) index.Stats {
	b.Helper()
	st, err := ix.Sync(context.Background(), sp)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkSync measures the indexer on one generated spool: a cold load into memory and
// into a file (what mqsql does without and with --db on first use), a warm re-sync of an
// unchanged spool (every later start with --db), and the GROUP BY queries admins run first.
func BenchmarkSync(b *testing.B) {
	dir, _ := benchSpool(b)
	sp := testspool.Open(b, dir)
	ctx := context.Background()
	cold := func(b *testing.B, file bool) {
		var files int
		for i := range b.N {
			path := ""
			if file {
				path = filepath.Join(b.TempDir(), "idx"+strconv.Itoa(i)+".db")
			}
			ix, err := index.Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			files = benchSync(b, ix, sp).Files
			ix.Close()
		}
		reportPerMessage(b, files)
	}
	b.Run("cold-memory", func(b *testing.B) { cold(b, false) })
	b.Run("cold-file", func(b *testing.B) { cold(b, true) })

	// The warm and query benchmarks share one file index, built the first time one of them
	// runs, so that selecting only the cold ones with -bench does not build it. It is closed
	// when BenchmarkSync ends, not when the sub-benchmark that built it does.
	path := filepath.Join(b.TempDir(), "warm.db")
	var built *index.Index
	var files int
	b.Cleanup(func() {
		if built != nil {
			built.Close()
		}
	})
	warmIndex := func(sub *testing.B) *index.Index {
		if built == nil {
			ix, err := index.Open(ctx, path)
			if err != nil {
				sub.Fatal(err)
			}
			built, files = ix, benchSync(sub, ix, sp).Files
		}
		return built
	}
	b.Run("warm-file", func(b *testing.B) {
		warmIndex(b)
		b.ResetTimer()
		for range b.N {
			warm, err := index.Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			if st := benchSync(b, warm, sp); st.Read != 0 || st.Removed != 0 {
				b.Fatalf("warm sync of an unchanged spool read %d files and dropped %d", st.Read, st.Removed)
			}
			warm.Close()
		}
		reportPerMessage(b, files)
	})
	for _, q := range []struct{ name, sql string }{
		{"group-by-sender", "SELECT sender, count(*) FROM messages GROUP BY sender"},
		{"group-by-domain", "SELECT domain, count(*) FROM recipients GROUP BY domain"},
	} {
		b.Run(q.name, func(b *testing.B) {
			ix := warmIndex(b)
			b.ResetTimer()
			for range b.N {
				if drain(b, ix, q.sql) == 0 {
					b.Fatal("no groups")
				}
			}
		})
	}
}

// drain runs a query and reads every row, returning how many there were.
func drain(b *testing.B, ix *index.Index, query string) int {
	b.Helper()
	rows, err := ix.DB().Query(query)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	n := 0
	var key string
	var count int
	for rows.Next() {
		if err := rows.Scan(&key, &count); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

func reportPerMessage(b *testing.B, files int) {
	if files > 0 {
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(files), "ns/msg")
		b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	}
}
