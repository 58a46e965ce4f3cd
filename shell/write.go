package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/spool"
)

// Writes holds what a session needs to turn DELETE and UPDATE statements into spool
// operations, and the user's safety settings for them.
type Writes struct {
	Spool    *spool.Spool
	Executor spool.Executor
	// Backend names the executor in reports and the audit log ("postsuper", "direct").
	Backend string
	// DryRun prints plans and changes nothing; Yes acts without asking; Force allows a write
	// without a WHERE clause.
	DryRun, Yes, Force bool
	// BackupBase is where each delete's backup folder is made and the audit log is kept.
	BackupBase string
	// NoBackup deletes without keeping copies (the audit log is still written).
	NoBackup bool
	// Refresh brings the index up to date after the spool changed. It runs before the next
	// statement of the session, not right after the write: a one-shot mqsql has none, and an
	// index file is brought up to date by whoever opens it next anyway.
	Refresh func(ctx context.Context) error
	// Clock dates backups and audit records; nil is the system clock.
	Clock mqsql.Clock
}

// Errors a write statement can end with; each was reported to the user already.
var (
	// ErrNotConfirmed: the plan was shown but nobody confirmed it (no --yes in batch mode).
	ErrNotConfirmed = errors.New("not executed: add --yes to act on the spool without being asked, or --dry-run to only look")
	// ErrWriteFailed: some messages could not be changed.
	ErrWriteFailed = errors.New("some messages could not be changed")
)

// planSampleSize is how many messages a plan lists by name.
const planSampleSize = 10

// execWrite plans a write statement, shows the plan, gets it confirmed and carries it out.
func (s *Session) execWrite(ctx context.Context, st index.Statement) error {
	w := s.Writes
	if w == nil {
		return errors.New("this session cannot change the spool")
	}
	if !w.Force && !hasWhere(st.SQL) {
		return errors.New("refused: a DELETE or UPDATE without WHERE acts on every message in the queue; add a WHERE clause, or --force if that is really what you mean")
	}
	actions, err := s.Guard.Plan(ctx, st)
	if err != nil {
		return err
	}
	p := newPlan(actions)
	p.sql = st.SQL
	if len(actions) == 0 {
		fmt.Fprintln(s.Out, "No messages match; nothing to do.")
		return nil
	}
	p.print(s.Out, w)
	if w.DryRun {
		fmt.Fprintln(s.Out, "Dry run: nothing was changed.")
		return nil
	}
	if p.runnable() == 0 {
		fmt.Fprintln(s.Out, "Nothing to do: the statement does not apply to any matched message.")
		return nil
	}
	if ok, err := s.confirm(p); err != nil || !ok {
		return err
	}
	return s.carryOut(ctx, st, p)
}

// confirm asks the user, or requires --yes when nobody can be asked.
func (s *Session) confirm(p *plan) (bool, error) {
	if s.Writes.Yes {
		return true, nil
	}
	if s.Confirm == nil {
		return false, ErrNotConfirmed
	}
	ok, err := s.Confirm(p.question())
	if err != nil {
		return false, err
	}
	if !ok {
		fmt.Fprintln(s.Out, "Nothing was changed.")
	}
	return ok, nil
}

// carryOut backs up what will be deleted, applies each group of the plan, reports the
// outcomes, writes the audit record and refreshes the index.
func (s *Session) carryOut(ctx context.Context, st index.Statement, p *plan) error {
	w := s.Writes
	rec := spool.AuditRecord{Time: w.Clock.Now().UTC(), SQL: st.SQL, Spool: w.Spool.Dir(), Backend: w.Backend, Plan: p.counts()}
	outcomes := p.skipped()
	backup, notSaved, err := s.backup(ctx, p)
	outcomes = append(outcomes, notSaved...)
	if backup != nil {
		rec.Backup = backup.Dir
	}
	if err != nil {
		rec.Error = err.Error()
		s.audit(rec)
		return fmt.Errorf("backup failed, nothing was changed: %w", err)
	}
	for _, g := range p.groups {
		outcomes = append(outcomes, w.Executor.Apply(ctx, g.op, g.queue, g.targets)...)
	}
	rec.Interrupted = ctx.Err() != nil
	rec.Outcomes = report(s.Out, outcomes, backup)
	s.audit(rec)
	s.stale = w.Refresh != nil // the next statement refreshes first; a last one costs nothing
	if rec.Outcomes[string(mqsql.Failed)] > 0 {
		return ErrWriteFailed
	}
	if rec.Interrupted {
		return errors.New("interrupted: the messages not reached were left alone")
	}
	return nil
}

// backup copies every message the plan deletes, after checking it is still the planned file.
// Nothing is deleted unless every copy was written. A message that fails the check is taken
// out of the plan and returned as skipped: it may be back where it was by the time the
// delete runs (held and released meanwhile), and a message without a copy is never deleted.
func (s *Session) backup(ctx context.Context, p *plan) (*spool.Backup, []mqsql.Outcome, error) {
	w := s.Writes
	if w.NoBackup || !p.deletes() {
		return nil, nil, nil
	}
	b, err := spool.NewBackup(w.BackupBase, p.sql, w.Spool.Dir(), w.Clock.Now())
	if err != nil {
		return nil, nil, err
	}
	var notSaved []mqsql.Outcome
	for i := range p.groups {
		g := &p.groups[i]
		if g.op != mqsql.OpDelete {
			continue
		}
		saved := g.targets[:0:0]
		for _, t := range g.targets {
			err := ctx.Err()
			if err == nil {
				if why := w.Spool.Check(t, true); why != "" {
					notSaved = append(notSaved, mqsql.Outcome{Action: mqsql.Action{Target: t, Op: g.op}, Result: mqsql.Skipped, Detail: why})
					continue
				}
				err = b.Save(w.Spool, t)
			}
			if err != nil {
				b.Abandon()
				return b, nil, err
			}
			saved = append(saved, t)
		}
		g.targets = saved
	}
	return b, notSaved, b.Close()
}

// deletes reports whether the plan deletes anything.
func (p *plan) deletes() bool {
	for _, g := range p.groups {
		if g.op == mqsql.OpDelete && len(g.targets) > 0 {
			return true
		}
	}
	return false
}

func (s *Session) audit(rec spool.AuditRecord) {
	if err := spool.AppendAudit(s.Writes.BackupBase, rec); err != nil {
		fmt.Fprintf(s.Err, "mqsql: warning: %v\n", err)
	}
}

// report prints how the statement ended and returns the counts per result.
func report(out io.Writer, outcomes []mqsql.Outcome, backup *spool.Backup) map[string]int {
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[string(o.Result)]++
	}
	fmt.Fprintf(out, "Done: %d, skipped: %d, failed: %d.\n", counts[string(mqsql.Applied)], counts[string(mqsql.Skipped)], counts[string(mqsql.Failed)])
	for _, r := range []mqsql.Result{mqsql.Failed, mqsql.Skipped} {
		listOutcomes(out, outcomes, r)
	}
	if backup != nil {
		fmt.Fprintf(out, "Backup: %s (mqsql restore %s puts the messages back).\n", backup.Dir, backup.Dir)
	}
	return counts
}

// maxListed bounds how many skipped or failed messages a report names one by one.
const maxListed = 20

func listOutcomes(out io.Writer, outcomes []mqsql.Outcome, r mqsql.Result) {
	n := 0
	for _, o := range outcomes {
		if o.Result != r {
			continue
		}
		if n++; n <= maxListed {
			fmt.Fprintf(out, "  %s %s (%s): %s\n", r, o.QueueID, o.Queue, o.Detail)
		}
	}
	if n > maxListed {
		fmt.Fprintf(out, "  ... and %d more %s\n", n-maxListed, r)
	}
}

// plan is a statement's actions grouped the way they are carried out: one group per
// operation and queue.
type plan struct {
	sql     string
	actions []mqsql.Action
	groups  []group
}

type group struct {
	op      mqsql.Op
	queue   mqsql.Queue
	targets []mqsql.Target
}

func newPlan(actions []mqsql.Action) *plan {
	p := &plan{actions: actions}
	idx := map[string]int{}
	for _, a := range actions {
		if a.Skip != "" {
			continue
		}
		key := string(a.Op) + "/" + string(a.Queue)
		i, ok := idx[key]
		if !ok {
			i = len(p.groups)
			idx[key] = i
			p.groups = append(p.groups, group{op: a.Op, queue: a.Queue})
		}
		p.groups[i].targets = append(p.groups[i].targets, a.Target)
	}
	sort.SliceStable(p.groups, func(i, j int) bool {
		if p.groups[i].op != p.groups[j].op {
			return p.groups[i].op < p.groups[j].op
		}
		return p.groups[i].queue < p.groups[j].queue
	})
	return p
}

func (p *plan) runnable() int {
	n := 0
	for _, g := range p.groups {
		n += len(g.targets)
	}
	return n
}

// skipped turns the actions that do not apply into outcomes, so they are reported too.
func (p *plan) skipped() []mqsql.Outcome {
	var out []mqsql.Outcome
	for _, a := range p.actions {
		if a.Skip != "" {
			out = append(out, mqsql.Outcome{Action: a, Result: mqsql.Skipped, Detail: a.Skip})
		}
	}
	return out
}

// counts is the plan as the audit log records it: op -> queue -> messages.
func (p *plan) counts() map[string]map[string]int {
	c := map[string]map[string]int{}
	for _, g := range p.groups {
		if c[string(g.op)] == nil {
			c[string(g.op)] = map[string]int{}
		}
		c[string(g.op)][string(g.queue)] = len(g.targets)
	}
	return c
}

// question is what the REPL asks, e.g. "Delete 1,234 messages (deferred 1,200, hold 34)? [y/N] ".
func (p *plan) question() string {
	var parts []string
	for _, op := range p.ops() {
		parts = append(parts, p.opSummary(op))
	}
	return strings.Join(parts, "; ") + "? [y/N] "
}

func (p *plan) ops() []mqsql.Op {
	var ops []mqsql.Op
	for _, g := range p.groups {
		if len(ops) == 0 || ops[len(ops)-1] != g.op {
			ops = append(ops, g.op)
		}
	}
	return ops
}

// opSummary is "Delete 1,234 messages (deferred 1,200, hold 34)".
func (p *plan) opSummary(op mqsql.Op) string {
	total := 0
	var per []string
	for _, g := range p.groups {
		if g.op == op {
			total += len(g.targets)
			per = append(per, fmt.Sprintf("%s %s", g.queue, thousands(len(g.targets))))
		}
	}
	return fmt.Sprintf("%s %s %s (%s)", op.Verb(), thousands(total), plural(total, "message", "messages"), strings.Join(per, ", "))
}

// print shows the plan: what happens to how many messages, the exact commands, a sample,
// and what will be left alone.
func (p *plan) print(out io.Writer, w *Writes) {
	for _, op := range p.ops() {
		fmt.Fprintf(out, "Plan: %s.\n", p.opSummary(op))
	}
	for _, g := range p.groups {
		fmt.Fprintf(out, "  %s   # %s %s\n", w.Executor.Command(g.op, g.queue), thousands(len(g.targets)), plural(len(g.targets), "message", "messages"))
	}
	if p.hasDeletes() {
		if w.NoBackup {
			fmt.Fprintln(out, "No backup (--no-backup): deleted messages cannot be restored.")
		} else {
			fmt.Fprintf(out, "Deleted messages are first copied to a new folder in %s.\n", w.BackupBase)
		}
	}
	p.printSample(out)
	if n := len(p.actions) - p.runnable(); n > 0 {
		fmt.Fprintf(out, "Left alone: %s %s:\n", thousands(n), plural(n, "message", "messages"))
		listOutcomes(out, p.skipped(), mqsql.Skipped)
	}
}

func (p *plan) printSample(out io.Writer) {
	n := 0
	for _, g := range p.groups {
		for _, t := range g.targets {
			if n == 0 {
				fmt.Fprintln(out, "Messages:")
			}
			if n++; n > planSampleSize {
				break
			}
			fmt.Fprintf(out, "  %-8s %-17s %-9s %s  %q\n", g.op, t.QueueID, t.Queue, output.Escape(shownSender(t.Sender)), t.Subject)
		}
	}
	if total := p.runnable(); total > planSampleSize {
		fmt.Fprintf(out, "  ... and %s more\n", thousands(total-planSampleSize))
	}
}

func (p *plan) hasDeletes() bool {
	for _, g := range p.groups {
		if g.op == mqsql.OpDelete {
			return true
		}
	}
	return false
}

func shownSender(s string) string {
	if s == "" {
		return "MAILER-DAEMON"
	}
	return mqsql.QuoteLocal(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands formats n with commas, as the confirmation question shows counts.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// refreshIfStale runs Writes.Refresh when a write changed the spool since the index was last
// brought up to date, so that the statement about to run sees what the write did.
func (s *Session) refreshIfStale(ctx context.Context) error {
	if !s.stale {
		return nil
	}
	if err := s.Writes.Refresh(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("refresh the index after the last write: %w", err)
	}
	s.stale = false
	return nil
}
