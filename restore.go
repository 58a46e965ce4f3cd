package mqsql

import (
	"context"
	"errors"
	"time"
)

// This file is the boundary of mqsql restore: putting the messages a DELETE saved (a Backup's
// statement folder) back into the queue they were deleted from. How that is done is the MTA's
// own business (Postfix requeues the saved file through maildrop and pickup, which gives it a
// new queue ID; Sendmail takes its control and data files back in place), so it is a driver's
// optional capability: a QueueDir that is also a Restorer. Listing backup folders and
// recording what came back are the same for every MTA and need no driver.

// Restorer is the optional capability of a QueueDir whose driver can put mail back from the
// backup folders its own Backup wrote. mqsql restore refuses a queue whose QueueDir is not one.
type Restorer interface {
	// BeginRestore starts one restore run into this queue. intend, when not nil, is told what
	// identifies each message right before it becomes visible in the queue (the driver fills
	// QueueID, Reappears and LogIdent; the caller adds the reason), so that an index watching
	// the queue can say why it arrived.
	BeginRestore(ctx context.Context, intend func(Intent)) (RestoreRun, error)
}

// RestoreRun is one restore run: Folder for each backup folder named, then Finish once.
type RestoreRun interface {
	// Backend names how restored mail goes back, for the audit record (Postfix: "maildrop").
	Backend() string
	// Folder puts back every message of the statement folder dir. It refuses a folder made of
	// another queue or by another MTA's driver, or that someone else could have written, and
	// each saved copy that is not exactly what the manifest describes. It returns one Restored
	// per message of the manifest (Err set for those not put back) and an error about the
	// folder as a whole; when the archive breaks off, the Restored say what was put back
	// before. j is told of each message as it goes back; a message j says an earlier run put
	// back is not put back again (its Restored has Earlier set), nor one it is in doubt about
	// (Err wraps ErrRestoreInDoubt).
	Folder(dir string, j RestoreJournal) ([]Restored, error)
	// Finish completes the Restored that Folder put back (Err nil), in place: on a live queue
	// it first waits, up to wait, for the MTA to take them in and give them their queue IDs,
	// and puts held mail back on hold where that is a second step. It sets NewQueueID, Held,
	// Error (why held mail is not back on hold) and Where.
	Finish(ctx context.Context, restored []Restored, wait time.Duration)
}

// Restored is one message of a backup folder as a restore run saw it: the record restore
// leaves (RestoredID: the old queue ID and queue, the new ID, where it was put, whether it is
// back on hold) and what the command prints of it.
type Restored struct {
	RestoredID
	// Folder is the statement folder it came from, where the record is left.
	Folder string
	// Where says where the message is now, as restore prints it after "OLD_ID -> ": its
	// queue ID, or the file it waits in and what will happen to it.
	Where string
	// Err says why it was not put back; nil when it was.
	Err error
	// Earlier says an earlier, interrupted run of the same restore put it back: this run
	// did not.
	Earlier bool
	// Ref is the driver's own note of the message between Folder and Finish.
	Ref any
}

// RestoreJournal is what a restore run is told of each message as it goes back, kept in the
// statement folder, so that a restore interrupted half way resumes without putting any message
// back twice (on a live server, twice means every recipient gets the mail twice). A driver asks
// Earlier before it reads a message's copies, calls Putting right before the message can
// become visible in the queue and Put once it is.
type RestoreJournal interface {
	// Earlier says what an earlier, interrupted run of this folder's restore did with the
	// message queueID: nothing (JournalNone), put it back (JournalPut, prev says where), or
	// stopped while putting it back (JournalInDoubt: it may be in the queue, so it is not put
	// back again).
	Earlier(queueID string) (prev RestoredID, state JournalState)
	// Putting records that queueID is about to go back; an error stops it from going back.
	Putting(queueID string) error
	// Put records that the message r.QueueID is back, where r says. A line it fails to
	// write leaves the message in doubt, never put back twice, so it returns no error.
	Put(r RestoredID)
}

// JournalState is what a RestoreJournal knows of one message.
type JournalState int

// The states of a message in a RestoreJournal.
const (
	JournalNone JournalState = iota
	JournalPut
	JournalInDoubt
)

// ErrRestoreInDoubt marks a message an interrupted restore was putting back when it stopped:
// it may be in the queue already, so a resume leaves it to the admin rather than risk a second
// copy.
var ErrRestoreInDoubt = errors.New("an earlier restore was interrupted while putting this message back: it may be in the queue already, so it is not put back again (check the queue; --again puts the whole folder back)")

// NoJournal is the RestoreJournal of a run that keeps none (tests, a folder restored anew).
type NoJournal struct{}

// Earlier implements RestoreJournal: nothing was done before.
func (NoJournal) Earlier(string) (RestoredID, JournalState) { return RestoredID{}, JournalNone }

// Putting implements RestoreJournal.
func (NoJournal) Putting(string) error { return nil }

// Put implements RestoreJournal.
func (NoJournal) Put(RestoredID) {}
