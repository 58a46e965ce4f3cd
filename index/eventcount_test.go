package index_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestEventCounts checks that EventCounts counts each events row written, by kind, and that
// pruning the events table takes nothing from the counts.
func TestEventCounts(t *testing.T) {
	ctx := context.Background()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	sp := testspool.Open(t, dir)
	ix, err := index.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Sync(ctx, sp); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join(dir, sampleFile))
	if err != nil {
		t.Fatal(err)
	}
	const id = "Q1234ABCDEF"
	steps := []struct {
		name string
		do   func() error
		want map[string]int64
	}{
		{"nothing yet", func() error { return nil }, counts(0, 0, 0, 0)},
		{"arrives", func() error { return os.WriteFile(filepath.Join(dir, "incoming", id), sample, 0o700) }, counts(1, 0, 0, 0)},
		{"moves", func() error { return os.Rename(filepath.Join(dir, "incoming", id), filepath.Join(dir, "active", id)) }, counts(1, 1, 0, 0)},
		{"changes", func() error { return os.Chmod(filepath.Join(dir, "active", id), 0o710) }, counts(1, 1, 0, 1)},
		{"leaves", func() error { return os.Remove(filepath.Join(dir, "active", id)) }, counts(1, 1, 1, 1)},
		{"events pruned", func() error { _, err := ix.PruneEvents(ctx, time.Now().Add(time.Hour)); return err }, counts(1, 1, 1, 1)},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if _, err := ix.Reconcile(ctx, sp); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := ix.EventCounts(); !maps.Equal(got, s.want) {
			t.Errorf("%s: EventCounts() = %v, want %v", s.name, got, s.want)
		}
	}
}

func counts(arrived, moved, left, changed int64) map[string]int64 {
	return map[string]int64{index.EventArrived: arrived, index.EventMoved: moved, index.EventLeft: left, index.EventChanged: changed}
}
