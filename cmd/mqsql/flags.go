package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mqsql/mqsql"
)

// options are the command-line settings after parsing.
type options struct {
	spool  string
	mta    string       // --mta: a driver's name or "auto"
	driver mqsql.Driver // the MTA --mta and --spool chose
	db     string
	// followsCache is set when db is not --db but the cache index, found kept by another
	// process's watcher: this run reads it and never claims it (that watcher holds the
	// cache's lock).
	followsCache bool
	format       string
	header       bool
	bail         bool
	sql          string

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
	noCache       bool
	includeActive bool

	// Serving Prometheus metrics (mqsql watch --listen).
	metrics metricsFlags

	// The mail log read into the history tables.
	history historyFlags

	// Running the statement on many hosts (--hosts).
	fleet fleetFlags
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mqsql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addSpoolFlag(fs, o)
	fs.StringVar(&o.db, "db", "", "keep the index in this file and re-read only changed queue files next time (default: a cache index per queue, see --no-cache)")
	fs.BoolVar(&o.noCache, "no-cache", false, "answer a read-only statement straight from the queue files, and index anything else afresh into a temporary file removed at exit, instead of using the cache index kept in "+cacheDirHelp)
	fs.StringVar(&o.format, "format", "", "output format: table, csv, tsv, json, jsonl, line, markdown, list (default: table on a terminal, csv otherwise)")
	fs.BoolVar(&o.header, "header", true, "print column names in csv, tsv and list output")
	fs.BoolVar(&o.bail, "bail", false, "stop at the first failing statement")
	addLiveFlags(fs, o)
	addWriteFlags(fs, o)
	addHistoryFlags(fs, &o.history)
	addFleetFlags(fs, &o.fleet)
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
	if err := chooseDriver(o); err != nil {
		return nil, err
	}
	return o, nil
}

// usage is --help: what mqsql is, examples an admin can paste, the tables, views and
// commands to know, then the flags.
func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `Usage: mqsql [flags] [SQL]
       mqsql watch --db FILE [flags]
       mqsql restore [--spool DIR] [--db FILE] BACKUP_FOLDER...

mqsql reads the Postfix mail queue into an SQL index and answers SQL about it. With SQL as an
argument it runs it and exits; with no argument it reads statements from standard input, or
opens a REPL when standard input is a terminal (statements end with ";", Tab completes,
Ctrl-C cancels, Ctrl-D leaves, .help lists the dot-commands).

Examples:
  mqsql "SELECT sender, count(*) FROM messages GROUP BY sender ORDER BY 2 DESC LIMIT 10"
  mqsql "SELECT * FROM qshape WHERE queue = 'deferred'"        # qshape deferred
  mqsql "SELECT * FROM qshape_senders WHERE queue = 'deferred'" # qshape -s deferred
  mqsql "SELECT reason, messages, recipients FROM reasons"     # why mail is stuck
  mqsql "SELECT queue_id, ago(arrival_time), subject FROM messages WHERE queue = 'hold'"
  mqsql "SELECT queue_id, header(queue_id, 'X-Mailer') FROM messages WHERE sender LIKE '%@example.com'"
  mqsql --format json "SELECT * FROM messages WHERE queue = 'deferred'" | jq .
  echo ".cat -h 4jc7PP1W6fzdXSJ" | mqsql                      # postcat -hq
  mqsql --spool testdata/spool --format table "SELECT queue, queue_id, sender, subject FROM messages"

Restore: mqsql restore BACKUP_FOLDER puts what a DELETE saved back (Postfix: through maildrop,
  new queue IDs; Sendmail: qf/hf, df and xf in place, held mail still quarantined).

Tables: messages, recipients, events, deliveries, log_messages. Views: qshape, qshape_senders,
  reasons, senders, timeline, delivered (the mail log: see --log).
Exim (--mta exim): queue is incoming (never tried), deferred, active (a delivery holds the -D
  lock), hold (frozen) or corrupt; queue_name is the named queue, hold_reason why Exim froze
  it. DELETE, hold, release, flush and expire run exim -Mrm, -Mf, -Mt, -M and -Mg.
Functions: domain(addr), localpart(addr), regexp(pattern, text), age(t), ago(t),
  human_size(bytes), header(queue_id, name), body(queue_id), postcat(queue_id, options),
  qshape_bucket(age_seconds), qshape_domain(addr).
Output: control characters from mail are shown escaped (\x1b) in table, line, markdown and
  list output and in any output to a terminal. See mqsql(1) for the details.

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
	fs.StringVar(&o.backupDir, "backup", "/var/lib/mqsql/quarantine", "where deleted messages are copied first (a folder per statement: a tar archive and a manifest)")
	fs.BoolVar(&o.noBackup, "no-backup", false, "delete without keeping a copy")
	fs.BoolVar(&o.includeActive, "include-active", false, "also act on messages in the active queue (delivery in progress)")
}
