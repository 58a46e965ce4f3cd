package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
	"github.com/mqsql/mqsql/spool"
	"golang.org/x/term"
)

// Exit statuses: sqlite3's and psql's habits, which scripts around mqsql already know.
const (
	exitOK    = 0
	exitError = 1 // an SQL statement or the index failed
	exitUsage = 2
)

// options are the command-line settings after parsing.
type options struct {
	spool  string
	db     string
	format string
	header bool
	bail   bool
	sql    string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mqsql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.spool, "spool", "", "Postfix queue directory (default: postconf -h queue_directory, else "+spool.DefaultQueueDirectory+")")
	fs.StringVar(&o.db, "db", "", "keep the index in this file and re-read only changed queue files next time (default: in memory)")
	fs.StringVar(&o.format, "format", "", "output format: table, csv, tsv, json, jsonl, line, markdown, list (default: table on a terminal, csv otherwise)")
	fs.BoolVar(&o.header, "header", true, "print column names in csv, tsv and list output")
	fs.BoolVar(&o.bail, "bail", false, "stop at the first failing statement")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		o.sql = fs.Arg(0)
	default:
		return nil, fmt.Errorf("expected one SQL argument, got %d: quote the statement, e.g. mqsql \"SELECT * FROM messages\"", fs.NArg())
	}
	return o, nil
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `Usage: mqsql [flags] [SQL]

mqsql reads the Postfix mail queue into an SQL index (tables messages and recipients) and
runs SQL on it. With SQL as an argument it runs it and exits; with no argument it reads
statements from standard input, or opens a REPL when standard input is a terminal.

Examples:
  mqsql "SELECT sender, count(*) FROM messages GROUP BY sender ORDER BY 2 DESC"
  mqsql --format json "SELECT * FROM messages WHERE queue = 'deferred'"
  mqsql --spool testdata/spool "SELECT queue_id, sender, subject FROM messages"

Flags:
`)
	fs.PrintDefaults()
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	ix, err := openIndex(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitError
	}
	defer ix.Close()
	s := &shell.Session{DB: ix.DB(), Out: stdout, Err: stderr, Opt: opt, Bail: o.bail}
	var in io.Reader = stdin
	switch {
	case o.sql != "":
		in = strings.NewReader(o.sql)
	case isTerminal(stdin):
		return shell.REPL(ctx, s, stdin, stdout)
	}
	if err := s.RunScript(ctx, in); err != nil {
		if !errors.Is(err, shell.ErrFailed) {
			fmt.Fprintf(stderr, "mqsql: %v\n", err)
		}
		return exitError
	}
	return exitOK
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

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// openIndex opens the spool and the index and brings the index up to date.
func openIndex(ctx context.Context, o *options, stderr io.Writer) (*index.Index, error) {
	cfg, err := spool.LoadConfig(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: warning: %v; using Postfix's defaults\n", err)
	}
	if o.spool != "" {
		cfg.QueueDirectory = o.spool
	}
	sp, err := spool.Open(cfg)
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	warnings := 0
	sp.Warn = func(err error) {
		warnings++
		if warnings <= maxWarnings {
			fmt.Fprintf(stderr, "mqsql: warning: %v\n", err)
		}
	}
	ix, err := index.Open(ctx, o.db)
	if err != nil {
		return nil, err
	}
	if _, err := ix.Sync(ctx, sp); err != nil {
		ix.Close()
		return nil, fmt.Errorf("index %s: %w", cfg.QueueDirectory, err)
	}
	if warnings > maxWarnings {
		fmt.Fprintf(stderr, "mqsql: %d more warnings not shown\n", warnings-maxWarnings)
	}
	return ix, nil
}

// maxWarnings bounds how many spool warnings are printed, so a badly damaged spool does not
// bury the query's output.
const maxWarnings = 20
