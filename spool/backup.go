package spool

import (
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
)

// Backup is one statement's quarantine folder: before mqsql deletes a message it copies the
// queue file and its logs here, so a wrong delete can be undone with mqsql restore. The
// folder's manifest.json says what each copy was.
type Backup struct {
	Dir      string
	manifest Manifest
}

// Manifest describes a backup folder.
type Manifest struct {
	Time     time.Time         `json:"time"`
	User     string            `json:"user"`
	SQL      string            `json:"sql"`
	Spool    string            `json:"spool"`
	Messages []BackedUpMessage `json:"messages"`
}

// BackedUpMessage is one message in a backup: where it was, who sent it to whom, and which
// files were saved (paths relative to the backup folder).
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

// ManifestName is the manifest's file name inside a backup folder.
const ManifestName = "manifest.json"

// NewBackup creates a new backup folder under base (both mode 0700: they hold mail).
func NewBackup(base, sqlText, spoolDir string, now time.Time) (*Backup, error) {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("create backup folder %s: %w", base, err)
	}
	if err := os.Chmod(base, 0o700); err != nil {
		return nil, fmt.Errorf("create backup folder %s: %w", base, err)
	}
	dir, err := os.MkdirTemp(base, now.UTC().Format("20060102-150405-"))
	if err != nil {
		return nil, fmt.Errorf("create backup folder in %s: %w", base, err)
	}
	return &Backup{Dir: dir, manifest: Manifest{Time: now.UTC(), User: currentUser(), SQL: sqlText, Spool: spoolDir}}, nil
}

// Save copies t's queue file and logs into the backup. It reads the file through the spool
// (never following links) and checks that the copy is still the planned file.
func (b *Backup) Save(sp *Spool, t mqsql.Target) error {
	data, err := sp.readFile(t.Path, t.Inode)
	if err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	msgDir := filepath.Join(b.Dir, t.QueueID)
	if err := os.Mkdir(msgDir, 0o700); err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	rel := filepath.Join(t.QueueID, string(t.Queue))
	if err := writePrivate(filepath.Join(b.Dir, rel), data); err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	entry := BackedUpMessage{QueueID: t.QueueID, Queue: string(t.Queue), OriginalPath: t.Path, ArrivalTime: t.ArrivalTime,
		Sender: t.Sender, Subject: t.Subject, QueueFile: rel, SHA256: sha(data)}
	entry.Recipients = recipientsOf(data)
	for _, log := range []string{"defer", "bounce", "trace"} {
		logData, err := sp.readFile(sp.cfg.RelPath(log, t.QueueID), 0)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("back up %s log of %s: %w", log, t.QueueID, err)
		}
		logRel := filepath.Join(t.QueueID, log+".log")
		if err := writePrivate(filepath.Join(b.Dir, logRel), logData); err != nil {
			return fmt.Errorf("back up %s log of %s: %w", log, t.QueueID, err)
		}
		entry.Logs = append(entry.Logs, logRel)
	}
	b.manifest.Messages = append(b.manifest.Messages, entry)
	return nil
}

// Close writes the manifest and flushes the whole backup to disk, so that a backup that says
// it exists survives a crash right after the delete. A backup without a manifest is
// incomplete; restore refuses it.
func (b *Backup) Close() error {
	data, err := json.MarshalIndent(b.manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	if err := writePrivate(filepath.Join(b.Dir, ManifestName), append(data, '\n')); err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	if err := syncFS(b.Dir); err != nil {
		return fmt.Errorf("flush backup %s to disk: %w", b.Dir, err)
	}
	return nil
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
	_ = parseQueueFile(bytesReaderAt(data), int64(len(data)), &m)
	var rs []string
	for _, r := range m.Recipients {
		if r.Status == mqsql.Pending {
			rs = append(rs, r.Address)
		}
	}
	return rs
}

// writePrivate writes a new file readable by its owner only; Close flushes them all at once.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
