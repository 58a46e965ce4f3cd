package postfix

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/safefile"
)

// Backup is one statement's quarantine folder: before mqsql deletes a message it copies the
// queue file and its logs here, so a wrong delete can be undone with mqsql restore. The
// copies go into one tar archive (ArchiveName), which any tar lists and extracts; the
// folder's manifest.json says what each entry was. One file rather than a file per copy:
// creating tens of thousands of inodes costs far more than writing the same bytes once, and
// most on a file system that just deleted as many (which a big delete is).
type Backup struct {
	Dir      string
	sp       *Spool
	manifest Manifest
	archive  *os.File
	buf      *bufio.Writer
	tw       *tar.Writer
}

// Manifest describes a backup folder.
type Manifest struct {
	Time  time.Time `json:"time"`
	User  string    `json:"user"`
	SQL   string    `json:"sql"`
	Spool string    `json:"spool"`
	// Archive is the tar file in the folder that holds the copies; empty in backups of mqsql
	// versions that kept each copy as a file of its own in the folder.
	Archive  string            `json:"archive,omitempty"`
	Messages []BackedUpMessage `json:"messages"`
}

// BackedUpMessage is one message in a backup: where it was, who sent it to whom, and which
// copies were saved (names inside the archive).
type BackedUpMessage struct {
	QueueID      string   `json:"queue_id"`
	Queue        string   `json:"queue"`
	OriginalPath string   `json:"original_path"`
	ArrivalTime  int64    `json:"arrival_time"`
	Sender       string   `json:"sender"`
	Recipients   []string `json:"recipients"`
	Subject      string   `json:"subject,omitempty"`
	QueueFile    string   `json:"queue_file"`
	SHA256       string   `json:"sha256"`
	Logs         []string `json:"logs,omitempty"`
}

// ManifestName is the manifest's file name inside a backup folder, ArchiveName the archive's.
const (
	ManifestName = "manifest.json"
	ArchiveName  = "messages.tar"
)

// NewBackup creates a new backup folder under base (both mode 0700: they hold mail) with its
// archive (0600). Nothing is followed through a link: base must not be one and must be the
// caller's own (a looser mode is tightened on its descriptor), and the folder and archive are
// created inside it, relative to the checked directory.
func NewBackup(base, sqlText, spoolDir string, now time.Time) (*Backup, error) {
	baseDir, err := safefile.MkdirPrivate(base)
	if err != nil {
		return nil, fmt.Errorf("create backup folder %s: %w", base, err)
	}
	defer baseDir.Close()
	folder, err := baseDir.MkdirTemp(now.UTC().Format("20060102-150405-"))
	if err != nil {
		return nil, fmt.Errorf("create backup folder in %s: %w", base, err)
	}
	defer folder.Close()
	f, err := folder.OpenFile(ArchiveName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create backup archive: %w", err)
	}
	b := &Backup{Dir: folder.Path(), archive: f, buf: bufio.NewWriterSize(f, 1<<20)}
	b.tw = tar.NewWriter(b.buf)
	b.manifest = Manifest{Time: now.UTC(), User: mqsql.CurrentUser(), SQL: sqlText, Spool: spoolDir, Archive: ArchiveName}
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
	if err := b.add(name, data); err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	entry := BackedUpMessage{QueueID: t.QueueID, Queue: string(t.Queue), OriginalPath: t.Path, ArrivalTime: t.ArrivalTime,
		Sender: t.Sender, Subject: t.Subject, QueueFile: name, SHA256: sha(data)}
	entry.Recipients = recipientsOf(data)
	for _, log := range []string{"defer", "bounce", "trace"} {
		logData, err := sp.readFile(sp.cfg.RelPath(log, t.QueueID), 0)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("back up %s log of %s: %w", log, t.QueueID, err)
		}
		logName := t.QueueID + "/" + log + ".log"
		if err := b.add(logName, logData); err != nil {
			return fmt.Errorf("back up %s log of %s: %w", log, t.QueueID, err)
		}
		entry.Logs = append(entry.Logs, logName)
	}
	b.manifest.Messages = append(b.manifest.Messages, entry)
	return nil
}

// add appends one file to the archive.
func (b *Backup) add(name string, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: b.manifest.Time}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := b.tw.Write(data)
	return err
}

// Close finishes the archive, writes the manifest and flushes both to disk, so that a backup
// that says it exists survives a crash right after the delete. A backup without a manifest is
// incomplete; restore refuses it.
func (b *Backup) Close() error {
	if err := b.closeArchive(); err != nil {
		return fmt.Errorf("write backup archive: %w", err)
	}
	data, err := json.MarshalIndent(b.manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	if err := writeSynced(filepath.Join(b.Dir, ManifestName), append(data, '\n')); err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	if err := syncDir(b.Dir); err != nil {
		return fmt.Errorf("flush backup %s to disk: %w", b.Dir, err)
	}
	return nil
}

// Abandon closes the archive of a backup that failed; without a manifest, restore refuses it.
func (b *Backup) Abandon() {
	if b.archive != nil {
		b.archive.Close()
		b.archive = nil
	}
}

// closeArchive writes the tar trailer and fsyncs the archive.
func (b *Backup) closeArchive() error {
	f := b.archive
	b.archive = nil
	if f == nil {
		return errors.New("backup already closed")
	}
	defer f.Close()
	if err := b.tw.Close(); err != nil {
		return err
	}
	if err := b.buf.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// readFile reads a whole file inside the spool; when inode is not 0 it must match.
func (sp *Spool) readFile(rel string, inode uint64) ([]byte, error) {
	f, err := sp.root.open(rel, false)
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

// recipientsOf lists the pending recipients recorded in a queue file's bytes.
func recipientsOf(data []byte) []string {
	var m mqsql.Message
	_ = parseQueueFile(bytesReaderAt(data), int64(len(data)), &m, nil)
	var rs []string
	for _, r := range m.Recipients {
		if r.Status == mqsql.Pending {
			rs = append(rs, r.Address)
		}
	}
	return rs
}

// writeSynced writes a new file readable by its owner only and flushes it to disk.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
