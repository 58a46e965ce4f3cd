package mqsql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the boundary between mqsql and one MTA's queue. The index, the SQL functions
// and the write path know only these interfaces; a driver package (spool/postfix, and
// Sendmail's and Exim's beside it) is the one place that knows its MTA's files: their layout,
// modes, hashing, locks and ID rules. A second MTA is thus a new driver, not a change to the
// index.

// Errors a driver's readers return, so that callers branch the same way for every MTA.
var (
	// ErrGone reports a queue file that disappeared or moved between listing and reading:
	// normal on a live queue, where the MTA moves mail all the time.
	ErrGone = errors.New("spool: queue file is gone")
	// ErrIncomplete reports, for an entry of WalkForRead, a file still being written: not a
	// message yet, which Walk would not have listed.
	ErrIncomplete = errors.New("spool: queue file is still being written")
	// ErrNoMessage reports a queue ID in none of the places the MTA's tools search: the
	// message was delivered, deleted or set aside since it was listed.
	ErrNoMessage = errors.New("spool: no such message in the queue")
	// ErrDamaged is what content errors of a damaged file match (errors.Is): the message is
	// still mail, whose content cannot be read past the damage.
	ErrDamaged = errors.New("spool: damaged queue file")
)

// Entry is a queue file found by a walk, with what the driver saw of it at that moment. The
// index keeps File's stamp to tell, on the next look, whether the file changed.
type Entry struct {
	Queue   Queue
	QueueID string
	File    FileInfo
	// Misplaced is "" normally; otherwise where the MTA expects the file, which it does not
	// see where it is.
	Misplaced string
	// ForcedExpire is the MTA's mark, in the file's status, that the message is to be
	// returned to its sender at its next delivery attempt (messages.forced_expire).
	ForcedExpire bool
	// QueueName is the named queue (Exim) the file's place puts it in, "" for the default
	// queue; it equals what a read of the file puts in Message.QueueName. A move into another
	// named queue renames the files without changing them, so the index takes the new queue
	// name from here.
	QueueName string
	// NoLog marks a file the driver never joins a log to (see LogStamp): whatever log
	// stamp its row holds means nothing.
	NoLog bool
	// LogTaken says File.Log is the log's stamp, taken by the walk (a LogWalker's) or the
	// look (Stat) that found the file; otherwise the log's stamp comes from
	// EachDelayLogStamp or StatLog.
	LogTaken bool
	// Lazy marks an entry of WalkForRead: File has only Path, and the driver's read checks
	// whether the file is complete (ErrIncomplete when not).
	Lazy bool
}

// LogStamp is the size and mtime of a message's log file (Postfix's defer log, Exim's
// msglog): a new delay reason changes the message without touching its queue file, so the
// log's stamp is part of its Stamp. NoLog means none.
type LogStamp struct {
	Size         int64
	ModTimeNanos int64
}

// NoLog is the LogStamp of a message without a log, as every driver, walk and the index's
// rows (log_size, log_mtime_ns) say it.
var NoLog = LogStamp{Size: -1, ModTimeNanos: -1}

// Place is a path (relative to the spool) where a queue ID might be, with its queue.
type Place struct {
	Queue Queue
	Path  string
}

// Change is what a changed path in the spool means to a watcher.
type Change struct {
	// Top is set when the path is one of WatchedDirs itself: a directory removed or created,
	// after which only a full pass can tell what changed.
	Top bool
	// MaybeDir is set when the name could be a subdirectory the driver's layout uses (a hash
	// directory), which a watcher must then watch too.
	MaybeDir bool
	// ID is the queue ID the path is about, "" when none (an MTA's temporary files).
	ID string
	// Hint is where to look for ID: the path itself in a queue, "" for a log.
	Hint string
}

// ContentParts selects what Postcat shows, like postcat's -e, -h and -b options. The zero
// value shows everything.
type ContentParts struct {
	Envelope, Header, Body bool
}

// Layout answers a watcher's and a refresh's questions about paths and queue IDs from the
// driver's rules alone, without touching the disk.
type Layout interface {
	// WatchedDirs lists the top-level directories (relative to the spool) whose changes
	// change a message.
	WatchedDirs() []string
	// Classify says what a change at rel is about; false when rel is in none of WatchedDirs.
	Classify(rel string) (Change, bool)
	// IsHashDir reports whether a directory named name, depth levels below a watched
	// directory, is one the MTA's layout makes, which walks and watchers descend into.
	IsHashDir(name string, depth int) bool
	// QueueOfPath returns the queue a spool-relative path is in.
	QueueOfPath(rel string) (Queue, bool)
	// Locations lists every place the MTA would keep id.
	Locations(id string) []Place
	// OnlyComplete reports whether only complete mail reaches queue q, so that a file that
	// vanished from it was a message (and one from another queue may have been a file still
	// being written).
	OnlyComplete(q Queue) bool
	// ValidQueueID reports whether id is a name the MTA gives its messages: the only names
	// that may become a path or an argument.
	ValidQueueID(id string) bool
}

// Content reads what a message holds beyond its row, for the SQL functions header(), body()
// and postcat() and the REPL's .cat. Errors match ErrNoMessage for mail no longer queued and
// ErrDamaged for content that cannot be read.
type Content interface {
	Header(id, name string, limit int) (value string, found bool, err error)
	Body(id string, limit int) (text []byte, more bool, err error)
	Postcat(w io.Writer, id string, show ContentParts) error
}

// CutUTF8 shortens b to at most n bytes without splitting a UTF-8 sequence at the end: how
// every driver's Content keeps within the limits header() and body() ask for.
func CutUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// Spool is one MTA's queue opened for reading: everything the index needs to mirror it.
// Implementations never change the spool, and reach every file without following a link
// planted in it. Walk callbacks are never called from two goroutines at once unless the
// method says so.
type Spool interface {
	Layout
	Content
	// Dir is the queue directory, for messages and the audit log.
	Dir() string
	// Walk lists every message file, stat'ed. It goes on past a place it cannot open, list
	// or stat for a reason other than its absence, and returns an *UnreadableError for each
	// such place at its end (errors.Join), as every walk below does: what it could not see
	// is never taken for empty.
	Walk(ctx context.Context, fn func(Entry) error) error
	// WalkParallel is Walk with the directories listed in parallel, where that is faster;
	// fn may then be called from several goroutines at once.
	WalkParallel(ctx context.Context, fn func(Entry) error) error
	// WalkForRead lists candidate files without stat'ing them (Entry.Lazy), for a reader
	// that opens each one anyway.
	WalkForRead(ctx context.Context, fn func(Entry) error) error
	// EachDelayLogStamp calls fn for every log file of a message (see LogStamp).
	EachDelayLogStamp(ctx context.Context, fn func(id string, st LogStamp)) error
	// DelayLogStamps is EachDelayLogStamp into a map.
	DelayLogStamps(ctx context.Context) (map[string]LogStamp, error)
	// Stat looks at one place where file id of queue q may be, and returns it as a walk
	// would list it; false when no message file is there (or a link stands there: see
	// Absent). It returns an *UnreadableError when it could not look (too many open files,
	// an I/O error, permission): whether the file is there is then not known.
	Stat(q Queue, id, rel string) (Entry, bool, error)
	// StatLog returns the stamp of id's log; false when it has none.
	StatLog(id string) (LogStamp, bool)
	// ReadWithin reads the message of e. Problems with the file's content go in
	// Message.Error, never in the error, which is ErrGone, ErrIncomplete, or a failure to
	// open. Readers sharing budget (nil: none) bound the recipients they hold together.
	ReadWithin(e Entry, budget *RecipientBudget) (*Message, error)
	// ListDir lists the directory rel, without following a link.
	ListDir(rel string) ([]fs.DirEntry, error)
	// IsDir reports whether rel is a directory, reached without following a link.
	IsDir(rel string) bool
	// Meaning is what this queue means to its MTA: its queue names, the operations a
	// statement can ask for, what its own listing shows. The same value for the life of the
	// spool; callers never change it.
	Meaning() *Meaning
}

// QueueWalker is a Spool whose queues are places: a file's queue follows from where it is,
// so an entry's Queue is the queue a read of it gives, and one queue's files can be listed
// without walking the others. A statement about one queue (queue = 'hold') then lists only
// that queue's files. Drivers whose queue depends on a file's content or lock (Sendmail's
// quarantine, Exim's frozen mark) do not implement it.
type QueueWalker interface {
	// WalkQueue is Walk for the files of queue q alone, stat'ed.
	WalkQueue(ctx context.Context, q Queue, fn func(Entry) error) error
}

// LogWalker is a Spool that can take each message's log stamp during its parallel walk,
// because a log's place follows from the message's ID. A warm start then needs no listing of
// the logs before it can compare: on a big queue that listing is a second walk, of nearly as
// many files, that the comparison had to wait for.
type LogWalker interface {
	// WalkParallelWithLogs is WalkParallel with File.Log set (and LogTaken): the stamp of the
	// log that EachDelayLogStamp would list for the entry's ID, NoLog when there is none.
	WalkParallelWithLogs(ctx context.Context, fn func(Entry) error) error
}

// Operator is a driver's write side besides its Executors: the re-check that keeps every
// step to exactly the planned file, and the copy of a message taken before it is deleted,
// in the MTA's own files, so that a restore gives back exactly what was there.
type Operator interface {
	// Layout says where a message an operation moved is now.
	Layout
	// Dir is the queue directory, for the audit log and the backup's manifest.
	Dir() string
	// Check reports why t is no longer the planned message ("" when it still is): gone,
	// replaced, moved, or (unless includeActive) being delivered.
	Check(t Target, includeActive bool) string
	// BeginBackup creates a new backup folder under base for the statement sqlText.
	BeginBackup(base, sqlText string, now time.Time) (Backup, error)
	// Meaning says which operations the MTA has and from which queues (the same value as
	// Spool's).
	Meaning() *Meaning
}

// Backup is one statement's backup folder while it is written. Nothing is deleted unless
// Save succeeded for it and Close flushed the folder to disk.
type Backup interface {
	// Save copies t's files into the backup, checking they are still the planned file.
	Save(t Target) error
	// Close writes the manifest and flushes everything to disk.
	Close() error
	// Abandon closes the folder after a failure, leaving what was written for inspection.
	Abandon()
	// Folder is the backup folder's path, for reports, the audit log and restore.
	Folder() string
}

// Executor carries out planned operations on a queue. Each driver has at least one: its
// MTA's own tools on a live queue, and file operations on an offline copy where it can.
type Executor interface {
	// Command is the exact command (or file operation) that carries out op for mail in
	// queue, for plans and dry runs.
	Command(op Op, queue Queue) string
	// Apply carries out op on targets, all in queue. Each target is checked right before the
	// change and skipped if it is no longer the message that was matched. It returns one
	// outcome per target and stops between batches when ctx is done.
	Apply(ctx context.Context, op Op, queue Queue, targets []Target) []Outcome
}

// LockedActive is a Layout whose active queue is a lock, not a place: a message is active
// while a delivery process holds its lock (Exim's -D lock), which changes no file when it is
// taken or released. A watcher looks again, every so often, at the messages it has in
// active, since no event says when the lock ends.
type LockedActive interface {
	Layout
	// ActiveIsALock reports whether Active is a lock state.
	ActiveIsALock() bool
}

// Driver is one MTA as mqsql's commands see it: how to find its queue, recognise one and open
// it. The --mta flag names one; "auto" takes the one whose queue --spool holds, else the one
// installed here.
type Driver interface {
	// Name is the MTA's name, the value of --mta.
	Name() string
	// Installed reports whether this MTA is installed here, so that "auto" without --spool
	// can pick it.
	Installed() bool
	// Locate names the queue directory this MTA's configuration declares. When the
	// configuration could not be read it returns the MTA's default directory and a warning.
	Locate(ctx context.Context) (dir string, warning error)
	// Check reports whether dir is a queue directory of this MTA: nil, a *NotQueueError, or
	// an error saying why dir could not be looked at (a permission problem names the path).
	Check(dir string) error
	// Open opens the queue directory dir. warn receives problems that belong to no message
	// (a link planted in the spool); nil discards them.
	Open(ctx context.Context, dir string, warn func(error)) (QueueDir, error)
}

// QueueDir is a queue directory a Driver opened: read by the index and the SQL functions,
// changed through the write path, opened once per run.
type QueueDir interface {
	Spool
	Operator
	Close() error
	// Live reports whether the MTA installed here runs on this directory, so that its own
	// tools act on it (and not on another queue).
	Live() bool
	// Executor is how operations are carried out here, with its name for reports and the
	// audit log: the MTA's tools on a live queue, file operations on an offline copy.
	Executor(includeActive bool) (ex Executor, name string)
}

// NotQueueError reports a directory that is not a queue directory of the MTA named: reading
// it would answer "no mail" about a queue that was never looked at.
type NotQueueError struct {
	MTA     string   // e.g. "Postfix"
	Dir     string   // the directory named
	Missing []string // what it lacks, or nil when Dir itself could not be looked at
	Hint    string   // where the MTA's own queue directory is named, e.g. "postconf -h queue_directory"
	Err     error    // why Dir could not be looked at, when it could not
}

func (e *NotQueueError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: not %s queue directory: %v", e.Dir, article(e.MTA), e.Err)
	}
	return fmt.Sprintf("%s: not %s queue directory (no %s/; %s names %s's)",
		e.Dir, article(e.MTA), strings.Join(e.Missing, "/, "), e.Hint, e.MTA)
}

// article puts "a" or "an" before an MTA's name, as it is said.
func article(name string) string {
	if name != "" && strings.ContainsRune("AEIOU", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

func (e *NotQueueError) Unwrap() error { return e.Err }
