package sendmail

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
	"golang.org/x/sys/unix"
)

// Backup is one statement's backup folder on a Sendmail queue: before mqsql deletes a message
// it copies the control file and the df here, into one tar archive (ArchiveName) that any tar
// lists and extracts, with manifest.json saying what each entry was. mqsql restore puts them
// back (restore.go).
type Backup struct {
	w        *backupfolder.Folder
	sp       *Spool
	manifest Manifest
}

// Manifest describes a backup folder.
type Manifest struct {
	backupfolder.Header
	Messages []BackedUpMessage `json:"messages"`
}

// BackedUpMessage is one message in a backup: where it was, who sent it to whom, and the
// names of its copies inside the archive with their checksums, which restore checks.
type BackedUpMessage struct {
	backupfolder.Message
	ControlFile string `json:"control_file"`
	SHA256      string `json:"sha256"`
	// Mode is the control file's permission bits (Sendmail's QueueFileMode), which restore
	// gives the files it puts back: Sendmail sets aside a control file with looser ones.
	Mode       uint32 `json:"mode,omitempty"`
	DataFile   string `json:"data_file,omitempty"`
	DataSHA256 string `json:"data_sha256,omitempty"`
	// TranscriptFile is the copy of the xf, which exists only while a delivery runs.
	TranscriptFile   string `json:"transcript_file,omitempty"`
	TranscriptSHA256 string `json:"transcript_sha256,omitempty"`
}

// ManifestName is the manifest's file name inside a backup folder, ArchiveName the archive's.
const (
	ManifestName = backupfolder.ManifestName
	ArchiveName  = backupfolder.ArchiveName
)

var (
	_ mqsql.Backup   = (*Backup)(nil)
	_ mqsql.Operator = (*Spool)(nil)
)

// BeginBackup creates a new backup folder under base (both mode 0700: they hold mail) with its
// archive (0600), created without following links (internal/safefile).
func (s *Spool) BeginBackup(base, sqlText string, now time.Time) (mqsql.Backup, error) {
	f, err := backupfolder.Create(base, now)
	if err != nil {
		return nil, err
	}
	b := &Backup{w: f, sp: s}
	b.manifest = Manifest{Header: backupfolder.NewHeader(mqsql.CurrentUser(), sqlText, s.Dir(), "sendmail", now)}
	return b, nil
}

// Folder is the backup folder's path.
func (b *Backup) Folder() string { return b.w.Dir }

// Close writes the manifest and flushes the folder to disk (backupfolder.Folder.Close).
func (b *Backup) Close() error { return b.w.Close(b.manifest) }

// Abandon closes the archive of a backup that failed, leaving no manifest.
func (b *Backup) Abandon() { b.w.Abandon() }

// Save copies t's control file and df into the archive, read through the link-safe root, and
// checks that the control file is still the planned message (same arrival time).
func (b *Backup) Save(t mqsql.Target) error {
	data, st, err := b.sp.readControl(mqsql.Entry{Queue: t.Queue, QueueID: t.QueueID, File: mqsql.FileInfo{Path: t.Path}})
	if err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	var f qfile
	var m mqsql.Message
	if _, err := parseQF(data, &f, &m, nil); err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	if f.created != t.ArrivalTime && f.created != 0 {
		return fmt.Errorf("back up %s: arrival time is %d, planned %d", t.Path, f.created, t.ArrivalTime)
	}
	entry := BackedUpMessage{Message: backupfolder.MessageOf(t), ControlFile: t.QueueID + "/" + filepath.Base(t.Path),
		SHA256: backupfolder.SHA256(data), Mode: st.Mode & 0o777}
	for _, r := range m.Recipients {
		entry.Recipients = append(entry.Recipients, r.Address)
	}
	if err := b.w.Add(entry.ControlFile, data); err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	for _, part := range []struct {
		letter     byte
		name, hash *string
	}{{letterData, &entry.DataFile, &entry.DataSHA256}, {letterXscr, &entry.TranscriptFile, &entry.TranscriptSHA256}} {
		rel := b.sp.partRel(t.Path, &f, part.letter, t.QueueID)
		body, err := b.sp.readPlain(rel)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("back up %s: %w", rel, err)
		default:
			*part.name, *part.hash = t.QueueID+"/"+path.Base(rel), backupfolder.SHA256(body)
			if err := b.w.Add(*part.name, body); err != nil {
				return fmt.Errorf("back up %s: %w", rel, err)
			}
		}
	}
	b.manifest.Messages = append(b.manifest.Messages, entry)
	return nil
}

// readPlain reads a whole regular file of the queue through the root.
func (s *Spool) readPlain(rel string) ([]byte, error) {
	fd, err := s.root.OpenFD(rel, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s: not a regular file", rel)
	}
	data := make([]byte, st.Size)
	n, err := readFull(fd, data)
	return data[:n], err
}
