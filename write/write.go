// Package write turns a DELETE or UPDATE on messages into queue operations: it plans the
// statement, backs up what will be deleted, re-checks each message right before acting, acts,
// audits and reports. The REPL, batch mode and any later front end call it; they only ask the
// user and print.
package write

import (
	"context"
	"errors"
	"fmt"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
)

// Writer holds what turning write statements into spool operations needs, and the user's
// safety settings for them.
type Writer struct {
	// Guard classified the statement and plans it on the session's connection.
	Guard *index.Guard
	// Spool is the driver's write side: the re-check and the backups.
	Spool mqsql.Operator
	// Read is the spool the planned messages are read again from right before anything is
	// changed, to check each still matches the statement (see recheck); nil skips that
	// check, for tests of the rest.
	Read     mqsql.Spool
	Executor mqsql.Executor
	// Backend names the executor in reports and the audit log ("postsuper", "direct").
	Backend string
	// Force allows a write without a WHERE clause.
	Force bool
	// ForceHint says, in the words of the caller's interface, what the user does to force a
	// refused write; "" is "add --force" (the command line). The REPL cannot take --force at
	// its prompt, so it says what works there instead.
	ForceHint string
	// BackupBase is where each delete's backup folder is made and the audit log is kept.
	BackupBase string
	// NoBackup deletes without keeping copies (the audit log is still written).
	NoBackup bool
	// Clock dates backups and audit records; nil is the system clock.
	Clock mqsql.Clock
	// Warn receives problems that do not stop the write (an audit record not written).
	Warn func(error)
	// Intend, when set, is told before anything is changed why each planned queue ID is about
	// to move and under which audit record, so that the events the watcher records say so
	// (index.Index.RecordIntents). A failure is a warning: the write does not depend on it.
	Intend func(ctx context.Context, auditID string, intents []mqsql.Intent) error
}

// Errors a write can end with.
var (
	// ErrNoWhere: a write without WHERE and without --force.
	ErrNoWhere = errors.New("refused: a DELETE or UPDATE without WHERE acts on every message in the queue")
	// ErrReturning: a write with RETURNING, which would print rows that are not what happens.
	ErrReturning = errors.New("refused: RETURNING is not supported on DELETE or UPDATE of messages, which change the queue, not rows; remove it: the plan lists every message (--dry-run shows them all, --format json gives queue_id, queue, sender, arrival_time and recipients of each)")
	// ErrNotConfirmed: the plan was shown but nobody confirmed it (no --yes in batch mode).
	ErrNotConfirmed = errors.New("not executed: add --yes to act on the spool without being asked, or --dry-run to only look")
	// ErrWriteFailed: some messages could not be changed.
	ErrWriteFailed = errors.New("some messages could not be changed")
	// ErrInterrupted: the write stopped before it reached every message.
	ErrInterrupted = errors.New("interrupted: the messages not reached were left alone")
)

// ErrUnrestricted: the WHERE does not tell the messages apart, and there is no --force.
var ErrUnrestricted = errors.New("refused without --force")

// Plan checks the statement against the safety rules and plans it: what happens to which
// message. Nothing in the spool changes. Without Force, a write without WHERE, one whose WHERE
// names no column of messages, and one that acts on every message it could apply to are
// refused: each is how a mistyped condition ("WHERE queue_id = queue_id") empties a queue.
func (w *Writer) Plan(ctx context.Context, st index.Statement) (*Plan, error) {
	if HasReturning(st.SQL) {
		return nil, ErrReturning
	}
	if !w.Force && !HasWhere(st.SQL) {
		return nil, fmt.Errorf("%w; add a WHERE clause, or %s if that is really what you mean", ErrNoWhere, w.forceHint())
	}
	planned, err := w.Guard.PlanWrite(ctx, st, w.Spool.Meaning())
	if err != nil {
		return nil, err
	}
	p := newPlan(planned.Actions)
	p.SQL, p.Eligible, p.Recipients = st.SQL, planned.Eligible, planned.Recipients
	n := p.messages()
	p.All = n > 0 && n >= p.Eligible
	if w.Force || p.Runnable() == 0 {
		return p, nil
	}
	cols, err := w.Guard.TargetColumns(ctx)
	if err != nil {
		return nil, err
	}
	if !WhereNamesTarget(st.SQL, cols) {
		return nil, fmt.Errorf("%w: the WHERE clause names no column of messages, so it cannot tell one message from another (it would act on all %s messages it matched); add a condition on messages' own columns (e.g. WHERE sender = '...', or messages.queue_id IN (...)), or %s if that is really what you mean", ErrUnrestricted, thousands(n), w.forceHint())
	}
	if p.All {
		return nil, fmt.Errorf("%w: the plan covers all %s %s that %s can apply to, so the WHERE clause does not restrict it; %s if that is really what you mean, or narrow the WHERE clause", ErrUnrestricted, thousands(n), plural(n, "message", "messages"), p.verbs(), w.forceHint())
	}
	return p, nil
}

// forceHint is what the user does to force a refused write.
func (w *Writer) forceHint() string {
	if w.ForceHint == "" {
		return "add --force"
	}
	return w.ForceHint
}

// Execute carries out a confirmed plan: it backs up what will be deleted, applies each group
// of the plan, writes the audit record and returns what happened to every message. The error
// is ErrWriteFailed or ErrInterrupted when not every message was dealt with, or says why
// nothing was changed.
func (w *Writer) Execute(ctx context.Context, p *Plan) (*Report, error) {
	now := w.Clock.Now().UTC()
	rec := mqsql.AuditRecord{ID: mqsql.NewAuditID(now), Time: now, SQL: p.SQL, Spool: w.Spool.Dir(), Backend: w.Backend, Plan: p.counts()}
	rep := &Report{Outcomes: p.skipped(), AuditID: rec.ID}
	changed, err := w.recheck(ctx, p)
	if err != nil && ctx.Err() != nil {
		return w.interruptedBefore(ctx, p, rep, rec)
	}
	if err != nil {
		rec.Error = err.Error()
		w.audit(rec)
		return rep, fmt.Errorf("nothing was changed: %w", err)
	}
	rep.Outcomes = append(rep.Outcomes, changed...)
	backup, notSaved, err := w.backup(ctx, p)
	rep.Outcomes = append(rep.Outcomes, notSaved...)
	if backup != nil {
		rep.Backup, rec.Backup = backup.Folder(), backup.Folder()
	}
	if err != nil {
		rec.Error = err.Error()
		w.audit(rec)
		return rep, fmt.Errorf("backup failed, nothing was changed: %w", err)
	}
	w.intend(ctx, rec.ID, p)
	earlier := map[targetKey]mqsql.Outcome{}
	for _, g := range p.Groups {
		queue, targets, notReady := w.followUp(g, earlier)
		outs := w.Executor.Apply(ctx, g.Op, queue, targets)
		for _, o := range outs {
			earlier[keyOf(o.Target)] = o
		}
		rep.Outcomes = append(append(rep.Outcomes, notReady...), outs...)
	}
	rep.Interrupted = ctx.Err() != nil
	rep.Counts = countResults(rep.Outcomes)
	rec.Interrupted, rec.Outcomes = rep.Interrupted, rep.Counts
	w.audit(rec)
	switch {
	case rep.Counts[string(mqsql.Failed)] > 0:
		return rep, ErrWriteFailed
	case rep.Interrupted:
		return rep, ErrInterrupted
	}
	return rep, nil
}

// interruptedBefore ends a write interrupted before it changed anything (while its messages
// were read again): every planned message is reported not reached, and the audit log records
// the interruption, as it does one between messages.
func (w *Writer) interruptedBefore(ctx context.Context, p *Plan, rep *Report, rec mqsql.AuditRecord) (*Report, error) {
	for _, g := range p.Groups {
		for _, t := range g.Targets {
			rep.Outcomes = append(rep.Outcomes, mqsql.Outcome{
				Action: mqsql.Action{Target: t, Op: g.Op},
				Result: mqsql.Skipped,
				Detail: "not reached: " + ctx.Err().Error(),
			})
		}
	}
	rep.Interrupted = true
	rep.Counts = countResults(rep.Outcomes)
	rec.Interrupted, rec.Outcomes = true, rep.Counts
	w.audit(rec)
	return rep, ErrInterrupted
}

// Report is how a write ended: one outcome per planned message and where the copies went.
type Report struct {
	Outcomes []mqsql.Outcome
	// Counts is the number of messages per result (done, skipped, failed).
	Counts map[string]int
	// Backup is the folder holding the deleted messages' copies; "" when none was made.
	Backup      string
	Interrupted bool
	// AuditID is the ID of the write's record in the audit log.
	AuditID string
}

func countResults(outcomes []mqsql.Outcome) map[string]int {
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[string(o.Result)]++
	}
	return counts
}

func (w *Writer) audit(rec mqsql.AuditRecord) {
	if err := mqsql.AppendAudit(w.BackupBase, rec); err != nil && w.Warn != nil {
		w.Warn(err)
	}
}

// targetKey names one planned queue file across the groups of a plan.
type targetKey struct {
	id    string
	inode uint64
}

func keyOf(t mqsql.Target) targetKey { return targetKey{t.QueueID, t.Inode} }

// movedTo is where an operation leaves a message, for the operations a later group of the
// same plan can follow: postsuper -f releases expired held mail to deferred.
var movedTo = map[mqsql.Op]mqsql.Queue{mqsql.OpExpireRelease: mqsql.Deferred}

// followUp prepares a group whose messages an earlier group of the plan acted on (the flush
// of the one-statement expire): a message the earlier operation did not change is left alone,
// and one it moved is looked for where it went. It returns the queue the ready targets are in.
func (w *Writer) followUp(g Group, earlier map[targetKey]mqsql.Outcome) (mqsql.Queue, []mqsql.Target, []mqsql.Outcome) {
	queue := g.Queue
	var ready []mqsql.Target
	var notReady []mqsql.Outcome
	for _, t := range g.Targets {
		prev, ok := earlier[keyOf(t)]
		switch {
		case !ok:
		case prev.Result != mqsql.Applied:
			notReady = append(notReady, mqsql.Outcome{Action: mqsql.Action{Target: t, Op: g.Op}, Result: mqsql.Skipped,
				Detail: fmt.Sprintf("not done because %s was not: %s", prev.Op, prev.Detail)})
			continue
		case movedTo[prev.Op] != "":
			queue = movedTo[prev.Op]
			t.Queue, t.Path = queue, pathIn(w.Spool, queue, t.QueueID)
		}
		ready = append(ready, t)
	}
	return queue, ready, notReady
}

// pathIn is where the spool's MTA keeps message id in queue q.
func pathIn(l mqsql.Layout, q mqsql.Queue, id string) string {
	for _, p := range l.Locations(id) {
		if p.Queue == q {
			return p.Path
		}
	}
	return ""
}

// reasons says, for events, why each operation moves a message.
var reasons = map[mqsql.Op]string{
	mqsql.OpDelete: "deleted by mqsql", mqsql.OpHold: "held by mqsql", mqsql.OpRelease: "released by mqsql",
	mqsql.OpRequeue: "requeued by mqsql", mqsql.OpFlush: "flushed by mqsql", mqsql.OpExpire: "expired by mqsql",
	mqsql.OpExpireRelease: "expired by mqsql",
}

// intend hands the plan's intents to Intend: the first operation planned for a queue ID names
// it (an expire followed by a flush is an expiry). A requeued message reappears under a new
// queue ID when pickup copies it.
func (w *Writer) intend(ctx context.Context, auditID string, p *Plan) {
	if w.Intend == nil {
		return
	}
	var intents []mqsql.Intent
	seen := map[string]bool{}
	for _, g := range p.Groups {
		for _, t := range g.Targets {
			if !seen[t.QueueID] {
				seen[t.QueueID] = true
				intents = append(intents, mqsql.Intent{QueueID: t.QueueID, Reason: reasons[g.Op], Reappears: g.Op == mqsql.OpRequeue})
			}
		}
	}
	if err := w.Intend(ctx, auditID, intents); err != nil && w.Warn != nil {
		w.Warn(fmt.Errorf("events will not say why these messages moved: %w", err))
	}
}
