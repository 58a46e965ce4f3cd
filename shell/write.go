package shell

import (
	"context"
	"errors"
	"fmt"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/write"
)

// Writes holds what a session needs to turn DELETE and UPDATE statements into spool
// operations, and the user's safety settings for them. The write itself is package write's;
// the session only shows the plan, asks and prints the outcome.
type Writes struct {
	Spool mqsql.Operator
	// Read is the spool each planned message is read again from before it is changed (see
	// write.Writer.Read).
	Read     mqsql.Spool
	Executor mqsql.Executor
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
	// Intend records why planned messages are about to move, for the events table (see
	// write.Writer.Intend); nil records nothing.
	Intend func(ctx context.Context, auditID string, intents []mqsql.Intent) error
}

// Errors a write statement can end with; each was reported to the user already.
var (
	// ErrNotConfirmed: the plan was shown but nobody confirmed it (no --yes in batch mode).
	ErrNotConfirmed = write.ErrNotConfirmed
	// ErrWriteFailed: some messages could not be changed.
	ErrWriteFailed = write.ErrWriteFailed
)

// writer is the session's write path for one statement.
func (s *Session) writer() *write.Writer {
	w := s.Writes
	return &write.Writer{Guard: s.Guard, Spool: w.Spool, Read: w.Read, Executor: w.Executor, Backend: w.Backend,
		Force: w.Force, ForceHint: s.forceHint(), BackupBase: w.BackupBase, NoBackup: w.NoBackup, Clock: w.Clock, Intend: w.Intend,
		Warn: func(err error) { fmt.Fprintf(output.Escaping(s.Err), "mqsql: warning: %v\n", err) }}
}

// replForceHint is what forces a write in the REPL, whose prompt takes no --force.
const replForceHint = `leave the REPL and run the statement as mqsql --force "..." (or start the REPL with mqsql --force)`

// forceHint is what the user of this session does to force a refused write ("": the
// command line's --force).
func (s *Session) forceHint() string {
	if s.interactive {
		return replForceHint
	}
	return ""
}

// execWrite plans a write statement, shows the plan, gets it confirmed and has it carried out.
func (s *Session) execWrite(ctx context.Context, st index.Statement) error {
	if s.Writes == nil {
		return errors.New("this session cannot change the spool")
	}
	wr := s.writer()
	p, err := wr.Plan(ctx, st)
	if err != nil {
		return err
	}
	if f := s.Opt.Format; f == output.JSON || f == output.JSONL {
		return s.execWriteJSON(ctx, wr, p, f == output.JSONL)
	}
	if len(p.Actions) == 0 {
		fmt.Fprintln(s.Out, "No messages match; nothing to do.")
		hintNullSender(s.Err, st.SQL)
		return nil
	}
	wr.PrintPlan(s.Out, p, s.Writes.DryRun)
	if s.Writes.DryRun {
		fmt.Fprintln(s.Out, "Dry run: nothing was changed.")
		return nil
	}
	if p.Runnable() == 0 {
		fmt.Fprintln(s.Out, "Nothing to do: the statement does not apply to any matched message.")
		return nil
	}
	if ok, err := s.confirm(p); err != nil || !ok {
		if err == nil {
			fmt.Fprintln(s.Out, "Nothing was changed.")
		}
		return err
	}
	rep, err := s.execute(ctx, wr, p)
	if rep.Counts != nil {
		write.PrintReport(s.Out, rep)
	}
	return err
}

// execWriteJSON is execWrite for programs: the plan and its outcome as one JSON object.
func (s *Session) execWriteJSON(ctx context.Context, wr *write.Writer, p *write.Plan, oneLine bool) error {
	var rep *write.Report
	var err error
	if !s.Writes.DryRun && p.Runnable() > 0 {
		var ok bool
		if ok, err = s.confirm(p); err == nil && ok {
			rep, err = s.execute(ctx, wr, p)
		}
	}
	if werr := write.WriteJSON(s.Out, wr.JSON(p, rep, s.Writes.DryRun, err), oneLine); werr != nil && err == nil {
		err = werr
	}
	return err
}

// execute carries out a confirmed plan and marks the index stale once the spool may have
// changed.
func (s *Session) execute(ctx context.Context, wr *write.Writer, p *write.Plan) (*write.Report, error) {
	rep, err := wr.Execute(ctx, p)
	if rep.Counts != nil {
		s.stale = s.Writes.Refresh != nil // the next statement refreshes first; a last one costs nothing
	}
	return rep, err
}

// confirm asks the user, or requires --yes when nobody can be asked.
func (s *Session) confirm(p *write.Plan) (bool, error) {
	if s.Writes.Yes {
		return true, nil
	}
	if s.Confirm == nil {
		return false, ErrNotConfirmed
	}
	return s.Confirm(p.Question())
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
