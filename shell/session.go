// Package shell runs SQL typed by people or fed by scripts against an mqsql index: it splits
// input into statements, runs them, prints results in the chosen output format, and provides
// the interactive REPL and sqlite3-style dot-commands on top.
package shell

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"github.com/mqsql/mqsql"
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
	// Layout is the rules of the spool's MTA, which say what a queue ID looks like, so that
	// .cat names a malformed ID as such; nil lets the MTA's reader decide.
	Layout mqsql.Layout

	// Terminal says that Out is a terminal although it is no *os.File (a test's recorder);
	// an *os.File terminal is recognized without it. On a terminal, control characters from
	// mail are escaped in every output format, and .cat escapes the message it shows.
	Terminal bool

	// Set by dot-commands.
	timer    bool      // .timer: print the run time of each statement
	redirect *redirect // .output or .once: where results go instead of Out
	terminal *bool     // whether the original Out is a terminal; nil until first asked

	stale       bool // a write changed the spool since the index was brought up to date
	interactive bool // statements come from the REPL's prompt (Interactive.Run)
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
	return s.withNameHint(ctx, s.exec(ctx, stmt))
}

// exec is Exec without the hint for unknown names.
func (s *Session) exec(ctx context.Context, stmt string) error {
	if s.BeforeStatement != nil {
		if err := s.BeforeStatement(ctx); err != nil {
			return err
		}
	}
	if err := s.refreshIfStale(ctx); err != nil {
		return err
	}
	if s.Guard == nil {
		rows, err := s.Conn.QueryContext(ctx, stmt)
		if err != nil {
			return err
		}
		defer rows.Close()
		_, err = s.print(rows)
		return err
	}
	st, err := s.Guard.Classify(ctx, stmt)
	if err != nil {
		return err
	}
	defer st.Close()
	if st.Kind != index.Read {
		return s.execWrite(ctx, st)
	}
	rows, err := st.Query(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	n, err := s.print(rows)
	if err == nil && n == 0 {
		hintNullSender(s.Err, stmt)
	}
	return err
}

// print renders a statement's rows, if it returns any, and says how many; a statement without
// columns is run to its end.
func (s *Session) print(rows *sql.Rows) (int, error) {
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	if len(cols) == 0 {
		n := 0
		for rows.Next() {
			n++
		}
		return n, rows.Err()
	}
	return s.render(rows, cols)
}

func (s *Session) render(rows *sql.Rows, cols []string) (int, error) {
	r := output.New(s.Out, s.Opt)
	if err := r.Begin(cols); err != nil {
		return 0, err
	}
	n := 0
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if err := r.Row(vals); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		r.End()
		return n, err
	}
	return n, r.End()
}

// reportError shows a statement's error. SQLite's and mqsql's errors quote data (a JSON
// path, a regexp, a value taken from a Subject), so it goes to the terminal escaped, whatever
// writer Err is.
func (s *Session) reportError(line int, err error) {
	msg := strings.TrimSpace(err.Error())
	w := output.Escaping(s.Err)
	if line > 0 {
		fmt.Fprintf(w, "Error: near line %d: %s\n", line, msg)
		return
	}
	fmt.Fprintf(w, "Error: %s\n", msg)
}
