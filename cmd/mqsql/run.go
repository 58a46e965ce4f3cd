package main

import (
	"context"
	"errors"
	"flag"
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

// Exit statuses: sqlite3's and psql's habits, which scripts around mqsql already know.
const (
	exitOK    = 0
	exitError = 1 // an SQL statement or the index failed
	exitUsage = 2
)

// run is the whole command: main only adds the process around it, so tests call run directly.
// Everything mqsql says to people on stderr (errors, warnings, the daemon's log) quotes mail
// data, so stderr is escaped here, in one place, as the table output is; only the progress
// line writes past it (see unescaped). Query results on stdout are the output formats' job:
// csv to a pipe must stay exact.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	errw := output.Escaping(stderr)
	defer errw.Flush()
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			outw := output.Escaping(stdout)
			defer outw.Flush()
			return sub(ctx, args[1:], stdin, outw, errw)
		}
	}
	return runQuery(ctx, args, stdin, stdout, errw)
}

// unescaped returns the destination of an escaping writer, for mqsql's own terminal control
// (the progress line): what goes there carries no mail data.
func unescaped(w io.Writer) io.Writer {
	if ew, ok := w.(*output.Writer); ok {
		return ew.Raw()
	}
	return w
}

// subcommands are the commands that are not a query; each file that adds one registers it.
// A subcommand's stdout, like its stderr, is a report for people (restore's list of queue IDs
// from a manifest), so run escapes both.
var subcommands = map[string]func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int{}

// runQuery runs SQL from the argument, standard input or the REPL.
func runQuery(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitUsage
	}
	opt, err := outputOptions(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitUsage
	}
	if o.fleet.hosts != "" || o.fleet.merge != "" {
		return runFleet(ctx, o, opt, stdout, stderr)
	}
	// Ctrl-C stops indexing and scripts between steps, so a delete ends between messages
	// with its report and audit record. The REPL handles Ctrl-C itself, per statement.
	replCtx := ctx
	ctx, stopInterrupt := signal.NotifyContext(ctx, os.Interrupt)
	defer stopInterrupt()
	warnings := &cappedWarnings{w: stderr}
	sp, err := openQueue(ctx, o, func(format string, args ...any) { fmt.Fprintf(stderr, "mqsql: "+format+"\n", args...) }, warnings.warn)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitError
	}
	defer sp.Close()
	ix, followed, err := openAnswering(ctx, o, sp, warnings, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitError
	}
	defer ix.Close()
	ix.UseSpool(sp) // header(), body() and .cat read messages from it
	s, closeSession, err := openSession(ctx, o, ix, sp, sessionIO{stdout: stdout, stderr: stderr, out: opt})
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitError
	}
	defer closeSession()
	var in io.Reader = stdin
	switch {
	case o.sql != "":
		in = strings.NewReader(o.sql)
	case isTerminal(stdin):
		stopInterrupt()
		ctx = replCtx
		if live, stopLive, err := startLive(ctx, o, ix, sp, stderr); err != nil {
			fmt.Fprintf(stderr, "mqsql: warning: the index will not follow the queue: %v\n", err)
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
		return shell.REPL(ctx, s, stdin, stdout)
	}
	stopKeeper := keepOneShot(ctx, o, ix, sp, s, stderr, followed)
	defer stopKeeper()
	if err := s.RunScript(ctx, in); err != nil {
		if !errors.Is(err, shell.ErrFailed) {
			fmt.Fprintf(stderr, "mqsql: %v\n", err)
		}
		return exitError
	}
	return exitOK
}

// keepOneShot installs the hooks of a run that is not a REPL: with --db, a keeper that notices
// when the watcher it read from stops (and .status that says who keeps the file); always, the
// notice that explains an events table no watcher fills.
func keepOneShot(ctx context.Context, o *options, ix *index.Index, sp mqsql.QueueDir, s *shell.Session, stderr io.Writer, followed *index.OwnerInfo) func() {
	if o.db == "" {
		if s.Guard != nil {
			s.Guard.Observe = eventsNotice(o, stderr, nil)
		}
		return func() {}
	}
	k := newKeeper(ctx, o, ix, sp, stderr, followed, false)
	s.Live, s.BeforeStatement = k, k.BeforeStatement
	if s.Guard != nil {
		s.Guard.Observe = eventsNotice(o, stderr, k.watched)
	}
	return k.stop
}

// outputOptions picks the format: table for a person at a terminal, csv with a header for
// scripts. Control characters from mail are escaped in every mode meant for people and in
// any mode written to a terminal.
func outputOptions(o *options, stdout io.Writer) (output.Options, error) {
	tty := isTerminal(stdout)
	f := output.CSV
	if tty {
		f = output.Table
	}
	if o.format != "" {
		var err error
		if f, err = output.ParseFormat(o.format); err != nil {
			return output.Options{}, err
		}
	}
	opt := output.Options{Format: f, Headers: o.header, Escape: tty || f.Human()}
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
