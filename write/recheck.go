package write

import (
	"context"
	"fmt"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
)

// ChangedSincePlan begins the reason a planned message is left alone because its file, read
// right before acting, no longer matches the statement.
const ChangedSincePlan = "changed since the plan"

// recheck re-reads every planned message from its file, right before anything is changed,
// into an index of their own in memory, and plans the statement again there: only a message
// whose fresh row the statement's WHERE still matches, for the same operation, stays in the
// plan, its fields (sender, subject, arrival time) taken from that fresh row; the others are
// returned as skipped, "changed since the plan". A plan is made from index rows, which may be
// stale, or written by anyone who could write the index file; the spool is the truth.
//
// The WHERE is evaluated among the planned messages only: a condition that depends on other
// messages (a count over the whole queue, the events table) may no longer hold there, and the
// message is then skipped rather than acted on.
func (w *Writer) recheck(ctx context.Context, p *Plan) ([]mqsql.Outcome, error) {
	if w.Read == nil || p.Runnable() == 0 {
		return nil, nil
	}
	fresh, err := w.replan(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("re-read the planned messages: %w", err)
	}
	var changed []mqsql.Outcome
	groups := p.Groups[:0]
	for _, g := range p.Groups {
		kept := g.Targets[:0]
		for _, t := range g.Targets {
			now, ok := fresh[actionKey{keyOf(t), g.Op}]
			if !ok {
				changed = append(changed, mqsql.Outcome{Action: mqsql.Action{Target: t, Op: g.Op}, Result: mqsql.Skipped,
					Detail: ChangedSincePlan + ": its file, read again, no longer matches the statement"})
				continue
			}
			kept = append(kept, now)
		}
		if g.Targets = kept; len(kept) > 0 {
			groups = append(groups, g)
		}
	}
	p.Groups = groups
	return changed, nil
}

// actionKey names one operation planned for one queue file.
type actionKey struct {
	target targetKey
	op     mqsql.Op
}

// replan reads the plan's files into a new index in memory and plans the statement on it,
// returning the targets it would act on, as read from their files.
func (w *Writer) replan(ctx context.Context, p *Plan) (map[actionKey]mqsql.Target, error) {
	ix, err := index.Open(ctx, "", index.WithClock(w.Clock))
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	if _, err := ix.Sync(ctx, plannedFiles{Spool: w.Read, plan: p}); err != nil {
		return nil, err
	}
	ix.UseSpool(w.Read)
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		return nil, err
	}
	st, err := g.Classify(ctx, p.SQL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	planned, err := g.PlanWrite(ctx, st, w.Spool.Meaning())
	if err != nil {
		return nil, err
	}
	out := map[actionKey]mqsql.Target{}
	for _, a := range planned.Actions {
		if a.Skip == "" {
			out[actionKey{keyOf(a.Target), a.Op}] = a.Target
		}
	}
	return out, nil
}

// plannedFiles is the spool as far as a plan goes: its walks list only the plan's files,
// stat'ed where the plan found them, so that an index synced from it holds their rows as
// their files say now.
type plannedFiles struct {
	mqsql.Spool
	plan *Plan
}

// Walk lists the plan's files that are still where it found them.
func (s plannedFiles) Walk(ctx context.Context, fn func(mqsql.Entry) error) error {
	seen := map[string]bool{}
	for _, g := range s.plan.Groups {
		for _, t := range g.Targets {
			if seen[t.Path] {
				continue
			}
			seen[t.Path] = true
			if err := ctx.Err(); err != nil {
				return err
			}
			e, ok, err := s.Spool.Stat(t.Queue, t.QueueID, t.Path)
			if err != nil {
				return err // a file that cannot be looked at is not acted on
			}
			if !ok {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// WalkParallel is Walk: a plan's files are few next to a queue.
func (s plannedFiles) WalkParallel(ctx context.Context, fn func(mqsql.Entry) error) error {
	return s.Walk(ctx, fn)
}

// WalkForRead is Walk, with the entries stat'ed.
func (s plannedFiles) WalkForRead(ctx context.Context, fn func(mqsql.Entry) error) error {
	return s.Walk(ctx, fn)
}
