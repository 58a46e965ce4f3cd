package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mqsql/mqsql/spool"
)

// options are the command-line settings after parsing.
type options struct {
	spool  string
	db     string
	format string
	header bool
	bail   bool
	sql    string

	// Keeping the index live (mqsql watch, and the REPL while it is open).
	poll      time.Duration // poll at this interval instead of watching; 0 = watch
	reconcile time.Duration // full reconcile pass interval
	retention time.Duration // how long events rows are kept

	// Write statements (DELETE and UPDATE on messages).
	dryRun        bool
	yes           bool
	force         bool
	backupDir     string
	noBackup      bool
	includeActive bool
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
	addLiveFlags(fs, o)
	addWriteFlags(fs, o)
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

// addLiveFlags declares the flags that keep an index current; mqsql watch shares them.
func addLiveFlags(fs *flag.FlagSet, o *options) {
	fs.DurationVar(&o.poll, "poll", 0, "poll the spool at this interval instead of watching it with inotify (e.g. 2s; for NFS)")
	fs.DurationVar(&o.reconcile, "reconcile", 5*time.Minute, "interval of the full reconcile pass that catches anything the watcher missed")
	fs.DurationVar(&o.retention, "retention", 7*24*time.Hour, "how long rows of the events table are kept")
}

// addWriteFlags declares the flags of DELETE and UPDATE statements, which act on the spool.
func addWriteFlags(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what a DELETE or UPDATE would do (counts, a sample, the exact postsuper commands) and change nothing")
	fs.BoolVar(&o.yes, "yes", false, "act on DELETE and UPDATE statements without asking (needed when not interactive)")
	fs.BoolVar(&o.force, "force", false, "allow DELETE or UPDATE without a WHERE clause")
	fs.StringVar(&o.backupDir, "backup", "/var/lib/mqsql/quarantine", "where deleted messages are copied first (one folder per statement, with a manifest)")
	fs.BoolVar(&o.noBackup, "no-backup", false, "delete without keeping a copy")
	fs.BoolVar(&o.includeActive, "include-active", false, "also act on messages in the active queue (delivery in progress)")
}
