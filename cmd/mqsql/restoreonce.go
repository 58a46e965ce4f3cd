package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
)

// This file is what makes a restore happen once: a folder already restored is refused (with
// when and by whom) unless --again, and a folder whose restore was interrupted resumes from its
// journal, leaving alone what the interrupted run put back.

// folderRestore is one statement folder of a restore run and what became of its messages.
type folderRestore struct {
	dir     string
	results []mqsql.Restored
	err     error // about the folder as a whole: not every message was tried
}

// finish completes (RestoreRun.Finish) the messages this run put back, not an earlier run's
// nor the failed, in place in their folders' results, and returns them.
func finish(ctx context.Context, run mqsql.RestoreRun, folders []*folderRestore, wait time.Duration) []mqsql.Restored {
	var fresh []mqsql.Restored
	var at []*mqsql.Restored
	for _, f := range folders {
		for i := range f.results {
			if r := &f.results[i]; r.Err == nil && !r.Earlier {
				fresh, at = append(fresh, *r), append(at, r)
			}
		}
	}
	run.Finish(ctx, fresh, wait)
	for i, r := range fresh {
		*at[i] = r
	}
	return fresh
}

// ErrAlreadyRestored marks a folder restored before, which restore refuses without --again.
var ErrAlreadyRestored = errors.New("already restored")

// restoreFolders restores each folder named in paths (listing a backup base instead) and
// returns them with the count of failures, printing each failure.
func restoreFolders(run mqsql.RestoreRun, paths []string, again bool, stdout, stderr io.Writer) ([]*folderRestore, int) {
	var folders []*folderRestore
	failed := 0
	for _, path := range paths {
		if backupfolder.IsBase(path) {
			failed += listBackups(path, stdout, stderr)
			continue
		}
		f, err := restoreFolder(run, path, again)
		if err != nil {
			fmt.Fprintf(stderr, "mqsql restore: %v\n", err)
			failed++
		}
		if f == nil {
			continue
		}
		for _, r := range f.results {
			if r.Err != nil {
				fmt.Fprintf(stderr, "mqsql restore: %s: %v\n", r.QueueID, r.Err)
				failed++
			}
		}
		folders = append(folders, f)
	}
	return folders, failed
}

// restoreFolder restores one folder once: refused when it was restored (unless again), resumed
// from its journal when a restore of it was interrupted. Its results are nil when nothing was
// tried.
func restoreFolder(run mqsql.RestoreRun, dir string, again bool) (*folderRestore, error) {
	if err := checkNotRestored(dir, again); err != nil {
		return nil, err
	}
	j, err := backupfolder.OpenJournal(dir)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	results, err := run.Folder(dir, j) // when the archive breaks off, results say what was put back before
	return &folderRestore{dir: dir, results: results, err: err}, err
}

// checkNotRestored refuses a folder that was restored already, saying when, by whom and under
// which audit record, unless again; with again, an interrupted earlier run's journal is set
// aside so that every message goes back.
func checkNotRestored(dir string, again bool) error {
	rec, done, err := backupfolder.LastRestored(dir)
	interrupted, _ := backupfolder.Interrupted(dir)
	if again {
		if interrupted {
			return backupfolder.RemoveJournal(dir)
		}
		return nil
	}
	if !done || interrupted {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w (its record cannot be read: %v); --again puts its messages back a second time", dir, ErrAlreadyRestored, err)
	}
	return fmt.Errorf("%s: %w on %s by %s (audit %s, %d messages); nothing put back: --again puts them back a second time",
		dir, ErrAlreadyRestored, rec.Time.UTC().Format("2006-01-02 15:04:05Z"), orUnknown(rec.User), orUnknown(rec.AuditID), len(rec.Messages))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// printRestored prints each message of the folders as "OLD -> WHERE" and returns how many
// were put back but are not as they were (held mail not held again).
func printRestored(folders []*folderRestore, stdout io.Writer) int {
	failed := 0
	for _, f := range folders {
		for _, r := range f.results {
			if r.Err != nil {
				continue
			}
			if r.Earlier {
				fmt.Fprintf(stdout, "%s -> %s (put back by the interrupted restore before; not again)\n", r.QueueID, earlierWhere(r.RestoredID))
				continue
			}
			note := ""
			if r.Held {
				note = " (back on hold)"
			} else if r.Error != "" {
				note = " (NOT back on hold: " + r.Error + ")"
				failed++
			}
			fmt.Fprintf(stdout, "%s -> %s%s\n", r.QueueID, r.Where, note)
		}
	}
	return failed
}

// earlierWhere says where an earlier run put a message: its new ID or its maildrop name.
func earlierWhere(r mqsql.RestoredID) string {
	switch {
	case r.NewQueueID != "":
		return r.NewQueueID
	case r.Maildrop != "":
		return "maildrop/" + r.Maildrop
	}
	return "the queue"
}
