package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/backupfolder"
)

// RestoreCommand is `mqsql restore [--spool DIR] [--db FILE] [--again] PATH…`: it puts the
// messages of backup folders back into the queue they were deleted from, in the way of the
// queue's MTA (mqsql.Restorer: Postfix requeues them through maildrop, as postsuper -r does,
// under new queue IDs; Sendmail and Exim take their files back in place), each folder once.
type RestoreCommand struct {
	streams
	spool spoolFlags
	wait  time.Duration
	audit string
	again bool
	db    string
	paths []string
}

// flags defines mqsql restore's flags, each once, into c.
func (c *RestoreCommand) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("mqsql restore", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	c.spool.define(fs)
	fs.DurationVar(&c.wait, "wait", 30*time.Second, "how long to wait for the MTA to take the messages in and report their new queue IDs (live Postfix: its pickup)")
	fs.StringVar(&c.audit, "backup", mqsql.DefaultBackupBase, "where the audit log is kept")
	fs.BoolVar(&c.again, "again", false, "put back the messages of a folder that was restored already (a second copy of each)")
	fs.StringVar(&c.db, "db", "", "the index file mqsql watch keeps: its events then say 'restored by mqsql' for the messages put back (default: the queue's cache index, when mqsql watch keeps it)")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "Usage: mqsql restore [--spool DIR] [--db FILE] [--again] BACKUP_FOLDER…\n\nPuts deleted messages back into the queue from the folders mqsql's DELETE made\n(Postfix: through maildrop, under new queue IDs; Sendmail: their qf and df files, back in\nplace under their own queue IDs, held mail still quarantined; Exim: their -D, -J, msglog and\n-H, back in their input directory under their own IDs, frozen mail still frozen). A folder is\nrestored once: again only with --again; an interrupted restore, run again, puts back only\nwhat is missing. Naming a backup base lists its folders and whether each was restored.")
		fs.PrintDefaults()
	}
	return fs
}

// parse reads args, flags anywhere among them, into c.
func (c *RestoreCommand) parse(args []string) error {
	rest, err := parseAnywhere(c.flags(), args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("name at least one backup folder")
	}
	c.paths = rest
	return c.spool.choose()
}

// Run implements Command.
func (c *RestoreCommand) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	q, rs, err := openRestoreSpool(ctx, &c.spool, c.stderr)
	if err != nil {
		return err
	}
	defer q.Close()
	return c.restore(ctx, q, rs)
}

// restore puts the folders back into q, records what it did, and prints it.
func (c *RestoreCommand) restore(ctx context.Context, q mqsql.QueueDir, rs mqsql.Restorer) error {
	stdout, stderr := c.stdout, c.stderr
	auditID := mqsql.NewAuditID(clock.Now())
	var intend func(mqsql.Intent)
	db := c.db
	if db == "" {
		db = watchedCache(c.spool.driver.Name(), q.Dir()) // mqsql watch without --db
	}
	if db != "" {
		closeIndex, fn, err := intendRestores(ctx, db, auditID, stderr)
		if err != nil {
			return err
		}
		defer closeIndex()
		intend = fn
	}
	run, err := rs.BeginRestore(ctx, intend)
	if err != nil {
		return err
	}
	folders, failed := restoreFolders(run, c.paths, c.again, stdout, stderr)
	if len(folders) == 0 && failed == 0 {
		return nil // only backup bases were named: they were listed
	}
	restored := finish(ctx, run, folders, c.wait)
	failed += printRestored(folders, stdout)
	ids := recordInFolders(folders, auditID, stderr)
	if len(restored) > 0 {
		recordRestore(c.audit, auditID, q.Dir(), run.Backend(), c.paths, ids, len(restored), failed, stderr)
	}
	fmt.Fprintf(stdout, "Restored: %d, failed: %d.\n", len(restored), failed)
	if failed > 0 {
		return errReported
	}
	return nil
}

// openRestoreSpool opens the queue messages are restored into, refusing one whose driver
// cannot put mail back (its QueueDir is no mqsql.Restorer).
func openRestoreSpool(ctx context.Context, o *spoolFlags, stderr io.Writer) (mqsql.QueueDir, mqsql.Restorer, error) {
	q, err := o.open(ctx, func(format string, args ...any) {
		fmt.Fprintf(stderr, "mqsql restore: "+format+"\n", args...)
	}, nil)
	if err != nil {
		return nil, nil, err
	}
	rs, ok := q.(mqsql.Restorer)
	if !ok {
		q.Close()
		return nil, nil, fmt.Errorf("--mta %s has no restore yet: its backup folders are tar archives (messages.tar) with a manifest, which tar extracts", o.driver.Name())
	}
	return q, rs, nil
}

// restoredReason is what events.reason says of a message restore put back.
const restoredReason = "restored by mqsql"

// intendRestores opens the index file db so that, as each message is about to go back into
// the queue, the index is told why it will arrive (under the ID and, for Postfix, the
// log_ident the driver names), for the events its watcher records. Without a watcher on db
// nothing records events, which it says. A failure to record is a warning: the restore does
// not depend on it. It returns what closes the index, and what the driver calls.
func intendRestores(ctx context.Context, db, auditID string, stderr io.Writer) (func(), func(mqsql.Intent), error) {
	ix, err := index.Open(ctx, db, index.WithClock(clock))
	if err != nil {
		return nil, nil, indexAccessError(db, err)
	}
	if _, live, err := index.IndexOwner(db); err == nil && !live {
		fmt.Fprintf(stderr, "mqsql restore: warning: no mqsql watch keeps %s: no events will say what this restore did\n", db)
	}
	warned := false
	intend := func(in mqsql.Intent) {
		in.Reason = restoredReason
		if err := ix.RecordIntents(ctx, auditID, []mqsql.Intent{in}); err != nil && !warned {
			warned = true
			fmt.Fprintf(stderr, "mqsql restore: warning: events will not say why the restored messages arrived: %v\n", err)
		}
	}
	return func() { ix.Close() }, intend, nil
}

// recordInFolders leaves each statement folder whose every message is back a record of what
// came back under which ID, with when, by whom and the audit ID, then removes its journal:
// the folder then reads as restored. A folder with a message not back keeps its journal, so
// that running restore again puts back only what is missing. It returns every message back,
// for the audit log.
func recordInFolders(folders []*folderRestore, auditID string, stderr io.Writer) []mqsql.RestoredID {
	var all []mqsql.RestoredID
	for _, f := range folders {
		var ids []mqsql.RestoredID
		complete := f.err == nil
		for _, r := range f.results {
			if r.Err != nil {
				complete = false
				continue
			}
			ids = append(ids, r.RestoredID)
		}
		all = append(all, ids...)
		if !complete && f.err != nil {
			continue
		}
		if !complete && f.err == nil {
			fmt.Fprintf(stderr, "mqsql restore: %s: not every message is back; restore it again to put back only the missing ones\n", f.dir)
			continue
		}
		rec := backupfolder.RestoredRecord{Time: clock.Now(), User: mqsql.CurrentUser(), AuditID: auditID, Messages: ids}
		err := backupfolder.WriteRestored(f.dir, rec)
		if err == nil {
			err = backupfolder.RemoveJournal(f.dir)
		}
		if err != nil {
			fmt.Fprintf(stderr, "mqsql restore: warning: %v\n", err)
		}
	}
	return all
}

// recordRestore appends the restore's record to the audit log in base: backend is how the
// messages went back (mqsql.RestoreRun.Backend).
func recordRestore(base, auditID, spoolDir, backend string, paths []string, ids []mqsql.RestoredID, restored, failed int, stderr io.Writer) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i], _ = filepath.Abs(p)
	}
	rec := mqsql.AuditRecord{ID: auditID, Time: clock.Now().UTC(), SQL: "restore " + strings.Join(abs, " "), Spool: spoolDir,
		Backend: backend, Plan: map[string]map[string]int{"restore": {backend: restored + failed}},
		Outcomes: map[string]int{"done": restored, "failed": failed}, Restored: ids}
	if err := mqsql.AppendAudit(base, rec); err != nil {
		fmt.Fprintf(stderr, "mqsql restore: warning: %v\n", err)
	}
}

// listBackups prints the statement folders of a backup base (time, message counts per queue,
// SQL), so that an admin can pick the one to restore; it returns 1 when the base is unreadable.
func listBackups(base string, stdout, stderr io.Writer) int {
	list, err := backupfolder.List(base)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql restore: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s is a backup base; its statement folders (restore one by naming it):\n", base)
	for _, b := range list {
		var qs []string
		for q, n := range b.Queues {
			qs = append(qs, fmt.Sprintf("%s %d", q, n))
		}
		slices.Sort(qs)
		fmt.Fprintf(stdout, "%s  %s  %d messages (%s)  %s  %s\n", b.Dir, b.Time, b.Count, strings.Join(qs, ", "), b.SQL, folderState(b.Dir, b.Count))
	}
	return 0
}

// folderState says whether the statement folder dir was restored (when, by whom), is half
// restored (a restore of it was interrupted), or not restored, for the listing of a base.
func folderState(dir string, count int) string {
	if interrupted, n := backupfolder.Interrupted(dir); interrupted {
		return fmt.Sprintf("[restore interrupted: %d of %d back; restore it again to finish]", n, count)
	}
	rec, done, err := backupfolder.LastRestored(dir)
	switch {
	case !done:
		return "[not restored]"
	case err != nil:
		return "[restored; its record cannot be read]"
	}
	return fmt.Sprintf("[restored %s by %s]", rec.Time.UTC().Format("2006-01-02 15:04:05Z"), orUnknown(rec.User))
}
