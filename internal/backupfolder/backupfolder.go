// Package backupfolder writes one statement's backup folder: before mqsql deletes mail, a
// driver copies each message's files into one tar archive (which any tar lists and extracts)
// and, once all are in, a manifest saying what each entry was, both flushed to disk. One
// archive rather than a file per copy: creating tens of thousands of inodes costs far more than
// writing the same bytes once, most of all on a file system that just deleted as many. Every
// driver writes its backups through it; what goes in, and the manifest's fields, are the
// driver's.
package backupfolder

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

// ManifestName is the manifest's file name inside a backup folder, ArchiveName the archive's.
const (
	ManifestName = "manifest.json"
	ArchiveName  = "messages.tar"
)

// Header is what every driver's manifest says of the statement: when, who, what, on which
// queue of which MTA, and the archive's name. A driver's manifest embeds it, so its JSON keys
// stand at the manifest's top level.
type Header struct {
	Time    time.Time `json:"time"`
	User    string    `json:"user"`
	SQL     string    `json:"sql"`
	Spool   string    `json:"spool"`
	MTA     string    `json:"mta"`
	Archive string    `json:"archive"`
}

// NewHeader is the Header of a backup of sqlText on the queue spool of mta, made at now.
func NewHeader(user, sqlText, spool, mta string, now time.Time) Header {
	return Header{Time: now.UTC(), User: user, SQL: sqlText, Spool: AbsSpool(spool), MTA: mta, Archive: ArchiveName}
}

// AbsSpool is the spool directory as a manifest records it: absolute, so that a backup made
// with --spool ./queue says which queue it was made of wherever restore is run from.
func AbsSpool(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// Message is what every driver's manifest says of one message: where it was and who sent it
// to whom. A driver's entry embeds it and adds the names of the message's copies.
type Message struct {
	QueueID      string   `json:"queue_id"`
	Queue        string   `json:"queue"`
	OriginalPath string   `json:"original_path"`
	ArrivalTime  int64    `json:"arrival_time"`
	Sender       string   `json:"sender"`
	Recipients   []string `json:"recipients"`
	Subject      string   `json:"subject,omitempty"`
}

// MessageOf is the Message of the planned target t, before its copies are added.
func MessageOf(t mqsql.Target) Message {
	return Message{QueueID: t.QueueID, Queue: string(t.Queue), OriginalPath: t.Path, ArrivalTime: t.ArrivalTime,
		Sender: t.Sender, Subject: t.Subject}
}

// Folder is a backup folder being written.
type Folder struct {
	// Dir is the folder's path.
	Dir     string
	created time.Time
	archive *os.File
	buf     *bufio.Writer
	tw      *tar.Writer
}

// Create makes a new backup folder under base (both mode 0700: they hold mail) with its archive
// (0600). Nothing is followed through a link: base must not be one and must be the caller's own
// (a looser mode is tightened on its descriptor), and the folder and archive are created inside
// it, relative to the checked directory. The folder is named after now, in UTC.
func Create(base string, now time.Time) (*Folder, error) {
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
	b := &Folder{Dir: folder.Path(), created: now.UTC(), archive: f, buf: bufio.NewWriterSize(f, 1<<20)}
	b.tw = tar.NewWriter(b.buf)
	return b, nil
}

// Add appends data to the archive as name.
func (b *Folder) Add(name string, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: b.created}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := b.tw.Write(data)
	return err
}

// AddFrom appends size bytes read from r to the archive as name, for a file too big to hold in
// memory.
func (b *Folder) AddFrom(name string, r io.Reader, size int64) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: size, ModTime: b.created}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := io.CopyN(b.tw, r, size)
	return err
}

// Close finishes the archive, writes manifest as the folder's manifest.json and flushes both to
// disk, so that a backup that says it exists survives a crash right after the delete. A folder
// without a manifest is incomplete; restore refuses it.
func (b *Folder) Close(manifest any) error {
	if err := b.closeArchive(); err != nil {
		return fmt.Errorf("write backup archive: %w", err)
	}
	data, err := json.MarshalIndent(manifest, "", "  ")
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
func (b *Folder) Abandon() {
	if b.archive != nil {
		b.archive.Close()
		b.archive = nil
	}
}

// closeArchive writes the tar trailer and fsyncs the archive.
func (b *Folder) closeArchive() error {
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

// SHA256 is the hex SHA-256 of b, which a manifest keeps of each copy so that restore can tell
// an altered one.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
