package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/spool/postfix"
)

func init() { subcommands["restore"] = runRestore }

// runRestore is `mqsql restore [--spool DIR] [--db FILE] PATH…`: it puts the messages of backup folders
// back into the queue through maildrop, as postsuper -r requeues mail, so they are delivered
// as normal under new queue IDs.
func runRestore(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mqsql restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	addSpoolFlag(fs, o)
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for Postfix's pickup to take the messages in and report their new queue IDs (live Postfix only)")
	audit := fs.String("backup", "/var/lib/mqsql/quarantine", "where the audit log is kept")
	db := fs.String("db", "", "the index file mqsql watch keeps: its events then say 'restored by mqsql' for the messages put back")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mqsql restore [--spool DIR] [--db FILE] BACKUP_FOLDER…\n\nPuts deleted messages back into the queue from the folders mqsql's DELETE made.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "mqsql restore: name at least one backup folder")
		return exitUsage
	}
	if err := chooseDriver(o); err != nil {
		fmt.Fprintf(stderr, "mqsql restore: %v\n", err)
		return exitUsage
	}
	sp, err := openRestoreSpool(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql restore: %v\n", err)
		return exitError
	}
	defer sp.Close()
	auditID := mqsql.NewAuditID(clock.Now())
	if *db != "" {
		closeIndex, err := intendRestores(ctx, *db, auditID, sp, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "mqsql restore: %v\n", err)
			return exitError
		}
		defer closeIndex()
	}
	live := sp.Live()
	pre := map[string]bool{}
	if live {
		_ = sp.Walk(ctx, func(e postfix.Entry) error { pre[e.QueueID] = true; return nil })
	}
	var restored []postfix.Restored
	failed := 0
	for _, path := range fs.Args() {
		if postfix.IsBackupBase(path) {
			failed += listBackups(path, stdout, stderr)
			continue
		}
		rs, err := sp.Restore(path) // when the archive breaks off, rs says what was restored before
		if err != nil {
			fmt.Fprintf(stderr, "mqsql restore: %v\n", err)
			failed++
		}
		for _, r := range rs {
			if r.Err != nil {
				fmt.Fprintf(stderr, "mqsql restore: %s: %v\n", r.QueueID, r.Err)
				failed++
				continue
			}
			restored = append(restored, r)
		}
	}
	if len(restored) == 0 && failed == 0 {
		return exitOK // only backup bases were named: they were listed
	}
	newIDs := map[string]string{}
	held := map[string]error{}
	if live && len(restored) > 0 {
		newIDs = sp.AwaitPickup(ctx, restored, pre, *wait)
		held = postfix.HoldAgain(ctx, restored, newIDs)
	}
	ids := make([]mqsql.RestoredID, len(restored))
	for i, r := range restored {
		ids[i] = mqsql.RestoredID{QueueID: r.QueueID, Queue: r.Queue, NewQueueID: newIDs[r.MaildropName], Maildrop: r.MaildropName}
		note := ""
		if err, ok := held[newIDs[r.MaildropName]]; ok && err == nil {
			note, ids[i].Held = " (back on hold)", true
		} else if ok {
			note, ids[i].Error = " (NOT back on hold: "+err.Error()+")", err.Error()
			failed++
		}
		fmt.Fprintf(stdout, "%s -> %s%s\n", r.QueueID, postfix.DescribeNew(r, newIDs, live), note)
	}
	recordInFolders(restored, ids, stderr)
	recordRestore(*audit, auditID, sp.Dir(), fs.Args(), ids, len(restored), failed, stderr)
	fmt.Fprintf(stdout, "Restored: %d, failed: %d.\n", len(restored), failed)
	if failed > 0 {
		return exitError
	}
	return exitOK
}

// openRestoreSpool opens the spool messages are restored into: only Postfix's so far, whose
// maildrop and pickup give restored mail back to the queue.
func openRestoreSpool(ctx context.Context, o *options, stderr io.Writer) (*postfix.Spool, error) {
	q, err := openQueue(ctx, o, func(format string, args ...any) {
		fmt.Fprintf(stderr, "mqsql restore: "+format+"\n", args...)
	}, nil)
	if err != nil {
		return nil, err
	}
	sp, ok := q.(*postfix.Spool)
	if !ok {
		q.Close()
		return nil, fmt.Errorf("restore puts mail back through Postfix's maildrop; --mta %s has no restore yet", o.driver.Name())
	}
	return sp, nil
}

// restoredReason is what events.reason says of a message restore put back.
const restoredReason = "restored by mqsql"

// intendRestores opens the index file db so that, as each message is about to go back into
// maildrop, the index is told why it will arrive (under its old queue ID in maildrop and,
// through its log_ident, under the new ID pickup gives it), for the events its watcher
// records. Without a watcher on db nothing records events, which it says. A failure to record
// is a warning: the restore does not depend on it. It returns what closes the index.
func intendRestores(ctx context.Context, db, auditID string, sp *postfix.Spool, stderr io.Writer) (func(), error) {
	ix, err := index.Open(ctx, db, index.WithClock(clock))
	if err != nil {
		return nil, indexAccessError(db, err)
	}
	if _, live, err := index.IndexOwner(db); err == nil && !live {
		fmt.Fprintf(stderr, "mqsql restore: warning: no mqsql watch keeps %s: no events will say what this restore did\n", db)
	}
	warned := false
	sp.Restoring = func(queueID, logIdent string) {
		// Known by log_ident, the copy in maildrop (named queueID as a rule) and the new file
		// are recognised whenever they arrive, and the old ID's own pending intent (the delete's,
		// if the watcher has not seen it yet) stays its. Without one, only the copy can be.
		in := mqsql.Intent{Reason: restoredReason, Reappears: true, LogIdent: logIdent}
		if logIdent == "" {
			in.QueueID = queueID
		}
		if err := ix.RecordIntents(ctx, auditID, []mqsql.Intent{in}); err != nil && !warned {
			warned = true
			fmt.Fprintf(stderr, "mqsql restore: warning: events will not say why the restored messages arrived: %v\n", err)
		}
	}
	return func() { ix.Close() }, nil
}

// recordInFolders leaves each statement folder a record of what came back under which ID.
func recordInFolders(restored []postfix.Restored, ids []mqsql.RestoredID, stderr io.Writer) {
	byFolder := map[string][]mqsql.RestoredID{}
	for i, r := range restored {
		byFolder[r.Folder] = append(byFolder[r.Folder], ids[i])
	}
	for dir, list := range byFolder {
		if err := postfix.WriteRestored(dir, clock.Now(), list); err != nil {
			fmt.Fprintf(stderr, "mqsql restore: warning: %v\n", err)
		}
	}
}

func recordRestore(base, auditID, spoolDir string, paths []string, ids []mqsql.RestoredID, restored, failed int, stderr io.Writer) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i], _ = filepath.Abs(p)
	}
	rec := mqsql.AuditRecord{ID: auditID, Time: clock.Now().UTC(), SQL: "restore " + strings.Join(abs, " "), Spool: spoolDir,
		Backend: "maildrop", Plan: map[string]map[string]int{"restore": {"maildrop": restored + failed}},
		Outcomes: map[string]int{"done": restored, "failed": failed}, Restored: ids}
	if err := mqsql.AppendAudit(base, rec); err != nil {
		fmt.Fprintf(stderr, "mqsql restore: warning: %v\n", err)
	}
}

// listBackups prints the statement folders of a backup base (time, message counts per queue,
// SQL), so that an admin can pick the one to restore; it returns 1 when the base is unreadable.
func listBackups(base string, stdout, stderr io.Writer) int {
	list, err := postfix.ListBackups(base)
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
		fmt.Fprintf(stdout, "%s  %s  %d messages (%s)  %s\n", b.Dir, b.Time, b.Count, strings.Join(qs, ", "), b.SQL)
	}
	return 0
}
