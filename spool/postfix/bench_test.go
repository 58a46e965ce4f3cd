package postfix

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/spoolgen"
)

// benchSpool generates the spool the benchmarks read: 20,000 messages by default,
// MQSQL_BENCH_MESSAGES to change it; MQSQL_BENCH_SPOOL names an existing one (e.g. written by
// bench/genspool) instead.
func benchSpool(b *testing.B) *Spool {
	b.Helper()
	dir := os.Getenv("MQSQL_BENCH_SPOOL")
	if dir == "" {
		n := 20000
		if s := os.Getenv("MQSQL_BENCH_MESSAGES"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				b.Fatalf("MQSQL_BENCH_MESSAGES=%q: %v", s, err)
			}
		}
		dir = b.TempDir()
		if _, err := spoolgen.Generate(context.Background(), dir, spoolgen.Options{Messages: n, Seed: 1}, nil); err != nil {
			b.Fatal(err)
		}
	}
	sp, err := Open(Config{QueueDirectory: dir, HashQueueNames: []string{"deferred", "defer"}, HashQueueDepth: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sp.Close() })
	return sp
}

// BenchmarkSpool measures reading a generated spool: the walks alone, and walking and reading
// every message (queue file and defer log) on one goroutine, the unit of work the indexer
// spreads over several. ns/msg is per message.
func BenchmarkSpool(b *testing.B) {
	sp := benchSpool(b)
	ctx := context.Background()
	walks := []struct {
		name string
		walk func(context.Context, func(Entry) error) error
	}{{"walk", sp.Walk}, {"walk-parallel", sp.WalkParallel}, {"walk-for-read", sp.WalkForRead}}
	for _, w := range walks {
		b.Run(w.name, func(b *testing.B) {
			var n int
			for range b.N {
				n = 0
				if err := w.walk(ctx, func(Entry) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			perMessage(b, n)
		})
	}
	b.Run("walk-and-read", func(b *testing.B) {
		var n int
		for range b.N {
			n = 0
			err := sp.WalkForRead(ctx, func(e Entry) error {
				if _, err := sp.Read(e); err != nil && err != ErrIncomplete {
					return err
				}
				n++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		perMessage(b, n)
	})
}

// BenchmarkParse measures the parsers alone, on files already in memory: a queue file and a
// defer log of a generated message, and the m3 sample.
func BenchmarkParse(b *testing.B) {
	dir := b.TempDir()
	var file, log []byte
	_, err := spoolgen.Generate(context.Background(), dir, spoolgen.Options{Messages: 1, Seed: 3, Deferred: 1}, func(m *spoolgen.Message) error {
		var err error
		if file, err = os.ReadFile(filepath.Join(dir, m.Path)); err == nil {
			log = []byte(m.DeferLog)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("queue-file", func(b *testing.B) {
		b.SetBytes(int64(len(file)))
		b.ReportAllocs()
		for range b.N {
			var m mqsql.Message
			if err := parseQueueFile(bytes.NewReader(file), int64(len(file)), &m, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("defer-log", func(b *testing.B) {
		b.SetBytes(int64(len(log)))
		b.ReportAllocs()
		for range b.N {
			if _, err := parseLog(bytes.NewReader(log)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func perMessage(b *testing.B, n int) {
	if n > 0 {
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(n), "ns/msg")
	}
}
