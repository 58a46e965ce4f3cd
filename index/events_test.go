package index_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
)

// TestEventsRetention checks that pruning drops exactly the rows past the retention period.
func TestEventsRetention(t *testing.T) {
	ctx := context.Background()
	ix, err := index.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	for i, age := range []time.Duration{8 * 24 * time.Hour, 7*24*time.Hour + time.Minute, 6 * 24 * time.Hour, time.Minute} {
		_, err := ix.DB().Exec(`INSERT INTO events (time, queue_id, event, to_queue) VALUES (?, ?, 'arrived', 'incoming')`,
			float64(now.Add(-age).UnixMicro())/1e6, fmt.Sprint("ID", i))
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := ix.PruneEvents(ctx, now.Add(-index.DefaultRetention))
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if err := ix.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if n != 2 || left != 2 {
		t.Errorf("pruned %d, %d left; want 2 and 2", n, left)
	}
}
