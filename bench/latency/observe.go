package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mqsql/mqsql/index"
)

// observer polls the index like a user typing queries as fast as possible, and notes when each
// probe's row first appeared and when it was first missing again.
type observer struct {
	ix    *index.Index
	every time.Duration

	mu   sync.Mutex
	seen map[string]time.Time
	gone map[string]time.Time
	errs int
}

func newObserver(ix *index.Index, every time.Duration) *observer {
	return &observer{ix: ix, every: every, seen: map[string]time.Time{}, gone: map[string]time.Time{}}
}

func (o *observer) run(ctx context.Context) {
	tick := time.NewTicker(o.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ids, err := o.probeRows(ctx)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				o.mu.Lock()
				o.errs++
				o.mu.Unlock()
			}
			continue
		}
		o.note(ids, now)
	}
}

// probeRows is the query: the probes the index has now.
func (o *observer) probeRows(ctx context.Context) (map[string]bool, error) {
	rows, err := o.ix.DB().QueryContext(ctx, `SELECT queue_id FROM messages WHERE sender = ?`, probeSender)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

func (o *observer) note(ids map[string]bool, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for id := range ids {
		if _, ok := o.seen[id]; !ok {
			o.seen[id] = now
		}
	}
	for id := range o.seen {
		if _, ok := o.gone[id]; !ok && !ids[id] {
			o.gone[id] = now
		}
	}
}

// waitAll waits until every probe was seen and is gone again, or timeout passes.
func (o *observer) waitAll(landed map[string]time.Time, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		done := len(o.gone) >= len(landed)
		o.mu.Unlock()
		if done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// latencies returns, for every probe, the time from landing to visible and from deletion to
// gone. A probe never seen, or never seen gone, is counted instead. A row can be gone a hair
// before postsuper's process has exited (it deletes, then prints and exits): such a departure
// counts as 0.
func (o *observer) latencies(landed, deleted map[string]time.Time) (arr, dep []time.Duration, unseen, notGone int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.errs > 0 {
		fmt.Printf("  reader: %d queries failed\n", o.errs)
	}
	for id, at := range landed {
		seen, ok := o.seen[id]
		if !ok {
			unseen++
			continue
		}
		arr = append(arr, max(0, seen.Sub(at)))
		del, ok := deleted[id]
		gone, ok2 := o.gone[id]
		if !ok || !ok2 {
			notGone++
			continue
		}
		dep = append(dep, max(0, gone.Sub(del)))
	}
	slices.Sort(arr)
	slices.Sort(dep)
	return arr, dep, unseen, notGone
}
