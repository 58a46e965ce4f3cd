package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
	"golang.org/x/term"
)

// unescaped returns the destination of an escaping writer, for mqsql's own terminal control
// (the progress line): what goes there carries no mail data.
func unescaped(w io.Writer) io.Writer {
	if ew, ok := w.(*output.Writer); ok {
		return ew.Raw()
	}
	return w
}

// Run implements Command: it runs SQL from the argument, standard input or the REPL.
func (c *QueryCommand) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if c.version {
		return (&VersionCommand{streams: c.streams}).Run(ctx, nil)
	}
	opt, err := outputOptions(c.format, c.header, c.stdout)
	if err != nil {
		return &usageError{err}
	}
	if c.fleet.hosts != "" || c.fleet.merge != "" {
		return c.runFleet(ctx, opt)
	}
	// Ctrl-C stops indexing and scripts between steps, so a delete ends between messages
	// with its report and audit record. The REPL handles Ctrl-C itself, per statement.
	replCtx := ctx
	ctx, stopInterrupt := signal.NotifyContext(ctx, os.Interrupt)
	defer stopInterrupt()
	warnings := &cappedWarnings{w: c.stderr}
	sp, err := c.spool.open(ctx, func(format string, args ...any) { fmt.Fprintf(c.stderr, "mqsql: "+format+"\n", args...) }, warnings.warn)
	if err != nil {
		return err
	}
	defer sp.Close()
	ix, followed, err := c.openAnswering(ctx, sp, warnings)
	if err != nil {
		return err
	}
	defer ix.Close()
	ix.UseSpool(sp) // header(), body() and .cat read messages from it
	s, closeSession, err := openSession(ctx, c.write, c.bail, ix, sp, sessionIO{stdout: c.stdout, stderr: c.stderr, out: opt})
	if err != nil {
		return err
	}
	defer closeSession()
	if c.sql == "" && isTerminal(c.stdin) {
		stopInterrupt()
		c.catchUp(replCtx)
		return c.repl(replCtx, ix, sp, s)
	}
	var in io.Reader = c.stdin
	if c.sql != "" {
		in = strings.NewReader(c.sql)
	}
	stopKeeper := c.keepOneShot(ctx, ix, sp, s, followed)
	defer stopKeeper()
	if err := s.RunScript(ctx, in); err != nil {
		if errors.Is(err, shell.ErrFailed) {
			return errReported
		}
		return err
	}
	return nil
}

// repl runs the REPL on a terminal, keeping the index current while it is open.
func (c *QueryCommand) repl(ctx context.Context, ix *index.Index, sp mqsql.QueueDir, s *shell.Session) error {
	if live, stopLive, err := c.startLive(ctx, ix, sp); err != nil {
		fmt.Fprintf(c.stderr, "mqsql: warning: the index will not follow the queue: %v\n", err)
	} else {
		defer stopLive()
		s.Live = live
		if k, ok := live.(*keeper); ok {
			s.BeforeStatement = k.BeforeStatement // notices when the watcher it follows stops
		}
		if s.Writes != nil {
			s.Writes.Refresh = live.Rescan // the watcher is the index's one writer
		}
	}
	if code := shell.REPL(ctx, s, c.stdin, c.stdout); code != exitOK {
		return errReported
	}
	return nil
}

// keepOneShot installs the hooks of a run that is not a REPL: with --db, a keeper that notices
// when the watcher it read from stops (and .status that says who keeps the file); always, the
// notice that explains an events table no watcher fills.
func (c *QueryCommand) keepOneShot(ctx context.Context, ix *index.Index, sp mqsql.QueueDir, s *shell.Session, followed *index.OwnerInfo) func() {
	if c.db == "" {
		if s.Guard != nil {
			s.Guard.Observe = c.withHistory(ctx, eventsNotice(c.db, c.followsCache, c.stderr, nil))
		}
		return func() {}
	}
	k := newKeeper(ctx, c.db, c.live, ix, sp, c.stderr, followed, false)
	s.Live, s.BeforeStatement = k, k.BeforeStatement
	if s.Guard != nil {
		s.Guard.Observe = c.withHistory(ctx, eventsNotice(c.db, c.followsCache, c.stderr, k.watched))
	}
	return k.stop
}

// outputOptions picks the format: table for a person at a terminal, csv with a header for
// scripts. Control characters from mail are escaped in every mode meant for people and in
// any mode written to a terminal.
func outputOptions(format string, header bool, stdout io.Writer) (output.Options, error) {
	tty := isTerminal(stdout)
	f := output.CSV
	if tty {
		f = output.Table
	}
	if format != "" {
		var err error
		if f, err = output.ParseFormat(format); err != nil {
			return output.Options{}, err
		}
	}
	opt := output.Options{Format: f, Headers: header, Escape: tty || f.Human()}
	if tty {
		if w, _, err := term.GetSize(int(stdout.(*os.File).Fd())); err == nil {
			opt.Width = w
		}
	}
	return opt, nil
}

// isTerminal reports whether v is a terminal, looking through an escaping writer.
func isTerminal(v any) bool {
	if w, ok := v.(io.Writer); ok {
		v = unescaped(w)
	}
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
