package index

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/spoolgen"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// BenchmarkRefresh measures what the watcher does per debounced batch: re-read 100 queue IDs
// whose files changed (a new mtime, as qmgr sets when it defers mail) and rewrite their rows
// and events in one transaction. Reported per queue ID.
func BenchmarkRefresh(b *testing.B) {
	const batchSize = 100
	dir := b.TempDir()
	var files []string
	_, err := spoolgen.Generate(context.Background(), dir, spoolgen.Options{Messages: 2000, Seed: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	sp := testspool.Open(b, dir)
	sp.Walk(context.Background(), func(e postfix.Entry) error {
		files = append(files, e.File.Path)
		return nil
	})
	ix, err := Open(context.Background(), filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Sync(context.Background(), sp); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		batch := map[string]*dirtyID{}
		now := time.Now().Add(time.Duration(i) * time.Second)
		for j := range batchSize {
			p := files[(i*batchSize+j)%len(files)]
			os.Chtimes(filepath.Join(dir, p), now, now)
			batch[filepath.Base(p)] = &dirtyID{since: now, hints: []string{p}}
		}
		b.StartTimer()
		if _, err := ix.refresh(context.Background(), sp, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batchSize), "µs/id")
}
