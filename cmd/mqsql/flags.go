package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
)

// QueryCommand is mqsql without a command name: it runs SQL from its argument, from standard
// input, or in a REPL when standard input is a terminal.
type QueryCommand struct {
	streams
	spool   spoolFlags
	db      string
	noCache bool
	format  string
	header  bool
	bail    bool
	live    liveFlags
	write   writeFlags
	sql     string
	version bool
	fleet   fleetFlags   // running the statement on many hosts (--hosts)
	history historyFlags // the mail log read into the history tables

	// followsCache is set when the index read is not --db but the cache index, found kept by
	// another process's watcher (followCache), which then stands in db: this run reads it and
	// never claims it (that watcher holds the cache's lock).
	followsCache bool
	// catchUpLog reads the mail log into this run's index from where the last run stopped; set
	// when this process keeps the index (no watcher does), nil once done. Reading a busy log
	// costs seconds (4 s for a 345,000-line mail.log), so a run pays for it only when one of
	// its statements reads the history (withHistory).
	catchUpLog func(ctx context.Context)
}

// flags defines the query runner's flags, each once, into c.
func (c *QueryCommand) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("mqsql", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	c.spool.define(fs)
	fs.StringVar(&c.db, "db", "", "keep the index in this file and re-read only changed queue files next time (default: a cache index per queue, see --no-cache)")
	fs.BoolVar(&c.noCache, "no-cache", false, "answer a read-only statement straight from the queue files, and index anything else afresh into a temporary file removed at exit, instead of using the cache index kept in "+cacheDirHelp)
	fs.StringVar(&c.format, "format", "", "output format: table, csv, tsv, json, jsonl, line, markdown, list (default: table on a terminal, csv otherwise)")
	fs.BoolVar(&c.header, "header", true, "print column names in csv, tsv and list output")
	fs.BoolVar(&c.bail, "bail", false, "stop at the first failing statement")
	fs.BoolVar(&c.version, "version", false, "print mqsql's version and commit, and exit (as mqsql version)")
	c.live.define(fs)
	c.write.define(fs)
	addHistoryFlags(fs, &c.history)
	addFleetFlags(fs, &c.fleet)
	fs.Usage = func() { usage(fs) }
	return fs
}

// parse reads args, flags anywhere among them, into c.
func (c *QueryCommand) parse(args []string) error {
	rest, err := parseAnywhere(c.flags(), args)
	if err != nil {
		return err
	}
	if c.version {
		return nil
	}
	switch len(rest) {
	case 0:
	case 1:
		c.sql = rest[0]
	default:
		return usagef("expected one SQL argument, got %d (%s): quote the statement, e.g. mqsql \"SELECT * FROM messages\"; put -- before SQL that starts with -", len(rest), quoteArgs(rest))
	}
	return c.spool.choose()
}

// quoteArgs shows the arguments taken for SQL, so that the user sees how the shell split them.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}

// usage is --help: what mqsql is, examples an admin can paste, the tables, views and
// commands to know, then the flags.
func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `Usage: mqsql [flags] [SQL] [flags]
       mqsql watch [--db FILE] [flags]
       mqsql restore [--spool DIR] [--db FILE] [--again] BACKUP_FOLDER...
       mqsql version

Flags may stand before or after the SQL; -- ends them.

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

// liveFlags are the flags that keep an index current; mqsql watch and the REPL share them.
// Their defaults are the index package's.
type liveFlags struct {
	poll      time.Duration // poll at this interval instead of watching; 0 = watch
	reconcile time.Duration // full reconcile pass interval
	retention time.Duration // how long events rows are kept
}

// define declares the live flags on fs.
func (f *liveFlags) define(fs *flag.FlagSet) {
	fs.DurationVar(&f.poll, "poll", 0, "poll the spool at this interval instead of watching it with inotify (e.g. 2s; for NFS)")
	fs.DurationVar(&f.reconcile, "reconcile", index.DefaultReconcile, "interval of the full reconcile pass that catches anything the watcher missed")
	fs.DurationVar(&f.retention, "retention", index.DefaultRetention, "how long rows of the events table are kept")
}

// options turns the live flags into watcher options.
func (f liveFlags) options(logf func(string, ...any)) index.WatchOptions {
	return index.WatchOptions{Poll: f.poll, Reconcile: f.reconcile, Retention: f.retention, Logf: logf}
}

// writeFlags are the flags of DELETE and UPDATE statements, which act on the spool.
type writeFlags struct {
	dryRun        bool
	yes           bool
	force         bool
	backupDir     string
	noBackup      bool
	includeActive bool
}

// define declares the write flags on fs.
func (f *writeFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&f.dryRun, "dry-run", false, "print what a DELETE or UPDATE would do (counts, a sample, the exact postsuper commands) and change nothing")
	fs.BoolVar(&f.yes, "yes", false, "act on DELETE and UPDATE statements without asking (needed when not interactive)")
	fs.BoolVar(&f.force, "force", false, "allow DELETE or UPDATE without a WHERE clause")
	fs.StringVar(&f.backupDir, "backup", mqsql.DefaultBackupBase, "where deleted messages are copied first (a folder per statement: a tar archive and a manifest)")
	fs.BoolVar(&f.noBackup, "no-backup", false, "delete without keeping a copy")
	fs.BoolVar(&f.includeActive, "include-active", false, "also act on messages in the active queue (delivery in progress)")
}
