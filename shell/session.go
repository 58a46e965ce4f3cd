// Package shell runs SQL typed by people or fed by scripts against an mqsql index: it splits
// input into statements, runs them, prints results in the chosen output format, and provides
// the interactive REPL and sqlite3-style dot-commands on top.
package shell

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
)

// Session is one user's conversation with an index: its output settings and where results
// and errors go. The REPL and batch mode share it, so both print exactly the same way.
type Session struct {
	// Conn is the one connection every statement of the session runs on: TEMP objects and
	// settings live per connection, so a pool could answer from a different one.
	Conn *sql.Conn
	Out  io.Writer
	Err  io.Writer
	Opt  output.Options
	// Bail stops a script at its first error (sqlite3's -bail); otherwise errors are
	// reported and the script goes on, and the exit status says something failed.
	Bail bool
	// BeforeStatement, when set, runs before each statement: the live index uses it to
	// bring the index up to date so a query sees the queue as it is now.
	BeforeStatement func(ctx context.Context) error
	// Live is the index's watcher when the index is kept current while the session is open
	// (the REPL); nil for a one-shot index. Dot-commands such as .rescan and .status use it.
	Live Live
	// Confirm asks the user a yes/no question before a statement changes the spool; the REPL
	// sets it. Nil means nobody can be asked (batch mode), so only --yes lets writes happen.
	Confirm func(question string) (bool, error)
	// Guard classifies each statement before it runs and refuses any that would change the
	// index; DELETE and UPDATE on messages become plans for Writes. Nil: no checks (tests).
	Guard *index.Guard
	// Writes says how write statements act on the spool; nil refuses them.
	Writes *Writes
}

// Live is what a session can ask of an index that is kept current by watching the spool.
type Live interface {
	// Rescan forces a full pass over the spool and returns when the index matches it.
	Rescan(ctx context.Context) error
	// Status describes the spool, rows per queue, the watcher's state and the time of the
	// last change, for .status.
	Status(ctx context.Context) (string, error)
}

// Exec runs one SQL statement and prints its result set, if it has one.
func (s *Session) Exec(ctx context.Context, stmt string) error {
	if s.BeforeStatement != nil {
		if err := s.BeforeStatement(ctx); err != nil {
			return err
		}
	}
	if s.Guard != nil {
		st, err := s.Guard.Classify(ctx, stmt)
		if err != nil {
			return err
		}
		if st.Kind != index.Read {
			return s.execWrite(ctx, st)
		}
	}
	rows, err := s.Conn.QueryContext(ctx, stmt)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if len(cols) == 0 {
		for rows.Next() {
		}
		return rows.Err()
	}
	return s.render(rows, cols)
}

func (s *Session) render(rows *sql.Rows, cols []string) error {
	r := output.New(s.Out, s.Opt)
	if err := r.Begin(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := r.Row(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		r.End()
		return err
	}
	return r.End()
}

// ErrFailed reports that at least one statement of a script failed; each failure was already
// printed.
var ErrFailed = errors.New("shell: a statement failed")

// RunScript runs every statement in r (batch mode: no prompts, no history), printing errors as
// it goes. It returns ErrFailed when any statement failed, after the whole script ran unless
// Bail is set.
func (s *Session) RunScript(ctx context.Context, r io.Reader) error {
	var sp Splitter
	failed := false
	line := 0
	run := func(stmts []string) bool {
		for _, stmt := range stmts {
			if err := s.Exec(ctx, stmt); err != nil {
				s.reportError(line, err)
				failed = true
				if s.Bail || ctx.Err() != nil {
					return false
				}
			}
		}
		return true
	}
	br := bufio.NewReader(r)
	for {
		text, err := br.ReadString('\n')
		if text != "" {
			line++
			if !run(sp.Feed(text)) {
				return ErrFailed
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read statements: %w", err)
		}
	}
	if last := sp.Pending(); last != "" {
		run([]string{last})
	}
	if failed {
		return ErrFailed
	}
	return nil
}

func (s *Session) reportError(line int, err error) {
	msg := strings.TrimSpace(err.Error())
	if line > 0 {
		fmt.Fprintf(s.Err, "Error: near line %d: %s\n", line, msg)
		return
	}
	fmt.Fprintf(s.Err, "Error: %s\n", msg)
}
