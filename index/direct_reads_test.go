package index_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testspool"
)

// countingSpool counts the files a driver reads and the walks it makes.
type countingSpool struct {
	mqsql.Spool
	reads, walks, queueWalks atomic.Int64
}

func (c *countingSpool) ReadWithin(e mqsql.Entry, b *mqsql.RecipientBudget) (*mqsql.Message, error) {
	c.reads.Add(1)
	return c.Spool.ReadWithin(e, b)
}

func (c *countingSpool) WalkForRead(ctx context.Context, fn func(mqsql.Entry) error) error {
	c.walks.Add(1)
	return c.Spool.WalkForRead(ctx, fn)
}

func (c *countingSpool) WalkParallel(ctx context.Context, fn func(mqsql.Entry) error) error {
	c.walks.Add(1)
	return c.Spool.WalkParallel(ctx, fn)
}

func (c *countingSpool) WalkQueue(ctx context.Context, q mqsql.Queue, fn func(mqsql.Entry) error) error {
	c.queueWalks.Add(1)
	return c.Spool.(mqsql.QueueWalker).WalkQueue(ctx, q, fn)
}

// TestDirectReadsOnlyWhatItNeeds: a direct database reads no file for a statement that uses
// only what a walk gives, one file for a queue ID, one queue's files for a queue, and each
// file once for a join of recipients to messages.
func TestDirectReadsOnlyWhatItNeeds(t *testing.T) {
	// testdata/spool: 18 messages (corrupt included), 1 of them in hold, and a file still
	// being written, which a walk for reading lists and the read leaves out.
	const files, candidates, held = 18, 19, 1
	tests := []struct {
		sql                      string
		reads, walks, queueWalks int64
	}{
		{`SELECT count(*) FROM messages`, 0, 1, 0},
		{`SELECT queue, count(*), sum(file_size) FROM messages GROUP BY queue`, 0, 1, 0},
		{`SELECT sender, count(*) FROM messages GROUP BY sender`, candidates, 1, 0},
		{`SELECT * FROM messages WHERE queue_id = '4jc7PP1W6fzdXSJ'`, 1, 0, 0},
		{`SELECT * FROM recipients WHERE queue_id IN ('4jc7PP1W6fzdXSJ', '4jc7WC0jyrzdlqj')`, 2, 0, 0},
		{`SELECT * FROM messages WHERE queue = 'hold'`, held, 0, 1},
		{`SELECT count(*) FROM messages WHERE queue = 'deferred'`, 0, 0, 1},
		{`SELECT * FROM recipients`, candidates, 1, 0},
		{`SELECT m.sender, r.address FROM messages m JOIN recipients r USING (queue_id)`, candidates, 1, 0},
		{`SELECT m.sender, r.address FROM recipients r JOIN messages m USING (queue_id)`, candidates, 1, 0},
	}
	sp := &countingSpool{Spool: testspool.Open(t, testspool.Copy(t, testspool.Dir(t, "spool")))}
	direct, err := index.OpenDirect(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if n := len(queryRows(t, direct.DB(), `SELECT * FROM messages`)); n != files {
		t.Fatalf("%d files, want %d", n, files)
	}
	for _, tt := range tests {
		sp.reads.Store(0)
		sp.walks.Store(0)
		sp.queueWalks.Store(0)
		queryRows(t, direct.DB(), tt.sql)
		if r, w, q := sp.reads.Load(), sp.walks.Load(), sp.queueWalks.Load(); r != tt.reads || w != tt.walks || q != tt.queueWalks {
			t.Errorf("%s: %d reads, %d walks, %d queue walks; want %d, %d, %d", tt.sql, r, w, q, tt.reads, tt.walks, tt.queueWalks)
		}
	}
}
