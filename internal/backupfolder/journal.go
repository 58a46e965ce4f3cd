package backupfolder

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/mqsql/mqsql"
)

// JournalName is the journal a restore keeps in the statement folder while it runs: one line
// before each message goes back, one after. It is removed once the restore's record
// (RestoredName) is on disk, so a folder with a journal is a restore interrupted half way.
const JournalName = "restore.journal"

// maxJournal bounds what is read of a journal: two lines of under 300 bytes per message.
const maxJournal = 1 << 30

// journalLine is one line of the journal: Putting names a message about to go back, Put one
// that is back (with where).
type journalLine struct {
	Putting string            `json:"putting,omitempty"`
	Put     *mqsql.RestoredID `json:"put,omitempty"`
}

// Journal is a statement folder's restore journal, an mqsql.RestoreJournal.
type Journal struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	put   map[string]mqsql.RestoredID
	doubt map[string]bool
}

var _ mqsql.RestoreJournal = (*Journal)(nil)

// OpenJournal opens the journal of the statement folder dir, reading what an interrupted run
// left in it. The file (0600, never through a link) is made when the first message goes back,
// so a restore that puts nothing back leaves no journal.
func OpenJournal(dir string) (*Journal, error) {
	if err := CheckTrusted(dir, true); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, JournalName)
	j, err := openJournalRead(path)
	if errors.Is(err, fs.ErrNotExist) {
		j, err = &Journal{put: map[string]mqsql.RestoredID{}, doubt: map[string]bool{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open restore journal: %w", err)
	}
	j.path = path
	return j, nil
}

// create opens the journal for appending, making it when it is not there.
func (j *Journal) create() error {
	fd, err := unix.Open(j.path, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open restore journal %s: %w", j.path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("open restore journal %s: %w", j.path, err)
	}
	if err := trustedStat(j.path, &st, false); err != nil {
		unix.Close(fd)
		return err
	}
	j.f = os.NewFile(uintptr(fd), j.path)
	j.w = bufio.NewWriter(j.f)
	if st.Size > 0 {
		j.w.WriteByte('\n') // ends a line a crash cut short, which replay then skips
	}
	return nil
}

// read replays the journal: a message named Putting and not Put after is in doubt. A last line
// cut short by a crash is ignored (what it said had not reached the disk whole).
func (j *Journal) read(r io.Reader) error {
	sc := bufio.NewScanner(io.LimitReader(r, maxJournal))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var l journalLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		if l.Putting != "" {
			j.doubt[l.Putting] = true
		}
		if l.Put != nil {
			delete(j.doubt, l.Put.QueueID)
			j.put[l.Put.QueueID] = *l.Put
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read restore journal %s: %w", j.path, err)
	}
	return nil
}

// Earlier implements mqsql.RestoreJournal.
func (j *Journal) Earlier(queueID string) (mqsql.RestoredID, mqsql.JournalState) {
	if r, ok := j.put[queueID]; ok {
		return r, mqsql.JournalPut
	}
	if j.doubt[queueID] {
		return mqsql.RestoredID{}, mqsql.JournalInDoubt
	}
	return mqsql.RestoredID{}, mqsql.JournalNone
}

// Putting implements mqsql.RestoreJournal: the line is on disk before the message can go back.
// The Put line before it reaches the disk with it, so one flush a message is enough.
func (j *Journal) Putting(queueID string) error {
	if err := j.append(journalLine{Putting: queueID}); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("flush restore journal: %w", err)
	}
	return nil
}

// Put implements mqsql.RestoreJournal. Should the line be lost (a crash, a full disk), the
// message is in doubt, never put back a second time.
func (j *Journal) Put(r mqsql.RestoredID) {
	j.put[r.QueueID] = r
	delete(j.doubt, r.QueueID)
	_ = j.append(journalLine{Put: &r})
}

func (j *Journal) append(l journalLine) error {
	if j.f == nil {
		if err := j.create(); err != nil {
			return err
		}
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	j.w.Write(append(data, '\n'))
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("write restore journal: %w", err)
	}
	return nil
}

// Close closes the journal, leaving it in the folder.
func (j *Journal) Close() error {
	if j.f == nil {
		return nil
	}
	return j.f.Close()
}

// RemoveJournal removes the journal of the statement folder dir once its restore is recorded
// (WriteRestored): the folder then reads as restored, not interrupted.
func RemoveJournal(dir string) error {
	err := unix.Unlink(filepath.Join(dir, JournalName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove restore journal in %s: %w", dir, err)
	}
	return syncDir(dir)
}

// SkipEarlier fills r from what j says an earlier run did with the message queueID, and
// reports whether a driver must leave the message alone: put back before (r.Earlier) or in
// doubt (r.Err wraps mqsql.ErrRestoreInDoubt).
func SkipEarlier(j mqsql.RestoreJournal, queueID string, r *mqsql.Restored) bool {
	prev, state := j.Earlier(queueID)
	switch state {
	case mqsql.JournalPut:
		folder := r.Folder
		*r = mqsql.Restored{RestoredID: prev, Folder: folder, Earlier: true}
		return true
	case mqsql.JournalInDoubt:
		r.Err = mqsql.ErrRestoreInDoubt
		return true
	}
	return false
}

// openJournalRead replays the journal at path without creating or changing it, for listing.
func openJournalRead(path string) (*Journal, error) {
	f, err := OpenTrusted(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	j := &Journal{path: path, put: map[string]mqsql.RestoredID{}, doubt: map[string]bool{}}
	return j, j.read(f)
}
