package spoolgen

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Summary counts what Generate wrote.
type Summary struct {
	Messages   int
	Recipients int
	Bytes      int64 // queue file bytes
	LogBytes   int64 // defer log bytes
	PerQueue   map[string]int
}

// Generate writes opt.Messages queue files (and their defer logs) under the spool directory
// dir, creating the queue directories it needs. fn, when not nil, is called with each message
// after its files are complete, one call at a time; an error from it stops the run.
func Generate(ctx context.Context, dir string, opt Options, fn func(*Message) error) (Summary, error) {
	sum := Summary{PerQueue: map[string]int{}}
	opt, err := opt.withDefaults()
	if err != nil {
		return sum, err
	}
	w, err := newDiskWriter(dir, &opt)
	if err != nil {
		return sum, err
	}
	p := newPlanner(&opt)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	done := func(m *Message) error {
		mu.Lock()
		defer mu.Unlock()
		sum.Messages++
		sum.Recipients += len(m.Recipients)
		sum.Bytes += m.FileSize
		sum.LogBytes += int64(len(m.DeferLog))
		sum.PerQueue[m.Queue]++
		if fn != nil {
			return fn(m)
		}
		return nil
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= opt.Messages {
					return
				}
				m := p.plan(i)
				err := w.write(m)
				if err == nil {
					err = done(m)
				}
				if err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return sum, fmt.Errorf("spoolgen: generate %s: %w", dir, err)
	}
	return sum, nil
}
