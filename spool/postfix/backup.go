package postfix

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
)

// Backup is one statement's quarantine folder: before mqsql deletes a message it copies the
// queue file and its logs here, so a wrong delete can be undone with mqsql restore. The
// copies go into one tar archive (ArchiveName), which any tar lists and extracts; the
// folder's manifest.json says what each entry was. One file rather than a file per copy:
// creating tens of thousands of inodes costs far more than writing the same bytes once, and
// most on a file system that just deleted as many (which a big delete is).
type Backup struct {
	Dir      string // the folder's path
	w        *backupfolder.Folder
	sp       *Spool
	manifest Manifest
}

// Manifest describes a backup folder.
type Manifest struct {
	Time  time.Time `json:"time"`
	User  string    `json:"user"`
	SQL   string    `json:"sql"`
	Spool string    `json:"spool"`
	// MTA is empty in the backups Postfix's driver writes; another driver's manifest names
	// its MTA here, which restore then refuses.
	MTA string `json:"mta,omitempty"`
	// Archive is the tar file in the folder that holds the copies; empty in backups of mqsql
	// versions that kept each copy as a file of its own in the folder.
	Archive  string            `json:"archive,omitempty"`
	Messages []BackedUpMessage `json:"messages"`
}

// BackedUpMessage is one message in a backup: where it was, who sent it to whom, and which
// copies were saved (names inside the archive).
type BackedUpMessage struct {
	backupfolder.Message
	QueueFile string   `json:"queue_file"`
	SHA256    string   `json:"sha256"`
	Logs      []string `json:"logs,omitempty"`
}

// ManifestName is the manifest's file name inside a backup folder, ArchiveName the archive's.
const (
	ManifestName = backupfolder.ManifestName
	ArchiveName  = backupfolder.ArchiveName
)

// NewBackup creates a new backup folder under base (both mode 0700: they hold mail) with its
// archive (0600). Nothing is followed through a link: base must not be one and must be the
// caller's own (a looser mode is tightened on its descriptor), and the folder and archive are
// created inside it, relative to the checked directory.
func NewBackup(base, sqlText, spoolDir string, now time.Time) (*Backup, error) {
	f, err := backupfolder.Create(base, now)
	if err != nil {
		return nil, err
	}
	b := &Backup{Dir: f.Dir, w: f}
	b.manifest = Manifest{Time: now.UTC(), User: mqsql.CurrentUser(), SQL: sqlText, Spool: backupfolder.AbsSpool(spoolDir), Archive: ArchiveName}
	return b, nil
}

// Backups are the Postfix driver's mqsql.Backup, and its Spool the mqsql.Operator.
var (
	_ mqsql.Backup   = (*Backup)(nil)
	_ mqsql.Operator = (*Spool)(nil)
)

// BeginBackup is NewBackup for this spool, whose files Save then copies.
func (s *Spool) BeginBackup(base, sqlText string, now time.Time) (mqsql.Backup, error) {
	b, err := NewBackup(base, sqlText, s.Dir(), now)
	if err != nil {
		return nil, err
	}
	b.sp = s
	return b, nil
}

// Folder is the backup folder's path.
func (b *Backup) Folder() string { return b.Dir }

// Close writes the manifest and flushes the folder to disk (backupfolder.Folder.Close).
func (b *Backup) Close() error { return b.w.Close(b.manifest) }

// Abandon closes the archive of a backup that failed; without a manifest, restore refuses it.
func (b *Backup) Abandon() { b.w.Abandon() }

// Save copies t's queue file and logs into the backup. It reads the file through the spool
// BeginBackup was called on (never following links) and checks that the copy is still the
// planned file.
func (b *Backup) Save(t mqsql.Target) error {
	sp := b.sp
	data, err := sp.readFile(t.Path, t.Inode)
	if err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	name := t.QueueID + "/" + string(t.Queue)
	if err := b.w.Add(name, data); err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	entry := BackedUpMessage{Message: messageOfCopy(t, data), QueueFile: name, SHA256: backupfolder.SHA256(data)}
	for _, log := range []string{"defer", "bounce", "trace"} {
		logData, err := sp.readFile(sp.cfg.RelPath(log, t.QueueID), 0)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("back up %s log of %s: %w", log, t.QueueID, err)
		}
		logName := t.QueueID + "/" + log + ".log"
		if err := b.w.Add(logName, logData); err != nil {
			return fmt.Errorf("back up %s log of %s: %w", log, t.QueueID, err)
		}
		entry.Logs = append(entry.Logs, logName)
	}
	b.manifest.Messages = append(b.manifest.Messages, entry)
	return nil
}

// readFile reads a whole file inside the spool; when inode is not 0 it must match.
func (sp *Spool) readFile(rel string, inode uint64) ([]byte, error) {
	f, err := sp.root.Open(rel, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", rel)
	}
	if inode != 0 {
		if ino := inodeOf(st); ino != inode {
			return nil, fmt.Errorf("%s: now inode %d, planned %d", rel, ino, inode)
		}
	}
	return io.ReadAll(f)
}

// pendingOf is the addresses of m's pending recipients.
func pendingOf(m mqsql.Message) []string {
	var rs []string
	for _, r := range m.Recipients {
		if r.Status == mqsql.Pending {
			rs = append(rs, r.Address)
		}
	}
	return rs
}

// messageOfCopy is the manifest's entry for t, whose saved copy is data: the sender,
// subject, arrival time and recipients are the copy's, never the plan's, which came from an
// index row that may be stale or forged (restore checks the manifest against the copy). Where
// it was (queue, path, ID) is the plan's, which the copy was read from and checked against.
func messageOfCopy(t mqsql.Target, data []byte) backupfolder.Message {
	var m mqsql.Message
	_ = parseQueueFile(bytesReaderAt(data), int64(len(data)), &m, nil)
	e := backupfolder.MessageOf(t)
	e.Sender, e.Subject, e.ArrivalTime, e.Recipients = m.Sender, m.Subject, m.ArrivalTime, pendingOf(m)
	return e
}
