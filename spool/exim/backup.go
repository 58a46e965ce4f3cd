package exim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
	"golang.org/x/sys/unix"
)

// Backup is one statement's quarantine folder on an Exim spool: before mqsql deletes a
// message it copies all of the message's files here (-H, -D, -J when there is one, and the
// msglog) into one tar archive, which any tar lists and extracts; manifest.json says what each
// entry was. Putting the files back into the spool's input/ and msglog/ (as the Exim user)
// gives Exim the message again.
type Backup struct {
	Dir      string // the folder's path
	w        *backupfolder.Folder
	sp       *Spool
	manifest Manifest
}

// Manifest describes a backup folder.
type Manifest struct {
	backupfolder.Header
	Messages []BackedUpMessage `json:"messages"`
}

// BackedUpMessage is one message in a backup: where it was, who sent it to whom, and which of
// its files the archive holds, each under the message ID and its spool-relative path, with the
// checksum restore checks each copy against.
type BackedUpMessage struct {
	backupfolder.Message
	Files []string `json:"files"`
	// SHA256 maps each name of Files to the hex SHA-256 of its copy.
	SHA256 map[string]string `json:"file_sha256,omitempty"`
	// Mode is the -H's permission bits (Exim's SPOOL_MODE, which all of a message's files
	// have), given back to every file restore puts back.
	Mode uint32 `json:"mode,omitempty"`
}

// ManifestName and ArchiveName are the file names inside a backup folder.
const (
	ManifestName = backupfolder.ManifestName
	ArchiveName  = backupfolder.ArchiveName
)

// NewBackup creates a backup folder under base (mode 0700: it holds mail) for the statement
// sqlText on this spool, without following a link.
func (s *Spool) NewBackup(base, user, sqlText string, now time.Time) (*Backup, error) {
	f, err := backupfolder.Create(base, now)
	if err != nil {
		return nil, err
	}
	b := &Backup{Dir: f.Dir, w: f, sp: s}
	b.manifest = Manifest{Header: backupfolder.NewHeader(user, sqlText, s.Dir(), "exim", now)}
	return b, nil
}

// Folder is the backup folder's path.
func (b *Backup) Folder() string { return b.Dir }

// Close writes the manifest and flushes the folder to disk (backupfolder.Folder.Close).
func (b *Backup) Close() error { return b.w.Close(b.manifest) }

// Abandon closes the archive of a backup that failed; it has no manifest.
func (b *Backup) Abandon() { b.w.Abandon() }

// Save copies all of t's files into the backup: the -H only if it is still the planned one
// (same inode), the -D whole however big, and the -J and msglog when present.
func (b *Backup) Save(t mqsql.Target) error {
	h := hpath(t.Path)
	if !ValidQueueID(t.QueueID) || h.id() != t.QueueID {
		return fmt.Errorf("back up %s: not a -H of %s", t.Path, t.QueueID)
	}
	entry := BackedUpMessage{Message: backupfolder.MessageOf(t)}
	data, st, err := readFile(b.sp.root, t.Path)
	if err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	if st.Ino != t.Inode {
		return fmt.Errorf("back up %s: now inode %d, planned %d", t.Path, st.Ino, t.Inode)
	}
	if p, _ := parseH(data, t.QueueID); p != nil { // a damaged header section keeps its envelope
		entry.Recipients = pendingOf(p)
	}
	if err := b.w.Add(t.QueueID+"/"+t.Path, data); err != nil {
		return fmt.Errorf("back up %s: %w", t.Path, err)
	}
	entry.Mode = st.Mode & 0o777
	entry.Files = append(entry.Files, t.QueueID+"/"+t.Path)
	entry.SHA256 = map[string]string{t.QueueID + "/" + t.Path: backupfolder.SHA256(data)}
	for _, rel := range []string{h.sibling("D"), h.sibling("J"), h.msglog()} {
		sum, err := b.addFile(t.QueueID+"/"+rel, rel)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("back up %s: %w", rel, err)
		}
		entry.Files = append(entry.Files, t.QueueID+"/"+rel)
		entry.SHA256[t.QueueID+"/"+rel] = sum
	}
	b.manifest.Messages = append(b.manifest.Messages, entry)
	return nil
}

// pendingOf lists the recipients of a -H not yet delivered.
func pendingOf(h *hfile) []string {
	done := map[string]bool{}
	for _, a := range h.nonrcpt {
		done[a] = true
	}
	var out []string
	for _, r := range h.recipients {
		if !done[r.address] {
			out = append(out, r.address)
		}
	}
	return out
}

// addFile streams the spool file rel into the archive as name, and returns the hex SHA-256
// of what it copied.
func (b *Backup) addFile(name, rel string) (string, error) {
	f, err := b.sp.root.Open(rel, false)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", fmt.Errorf("%s: not a regular file", rel)
	}
	h := sha256.New()
	if err := b.w.AddFrom(name, io.TeeReader(f, h), st.Size); err != nil {
		return "", fmt.Errorf("copy %s: %w", rel, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
