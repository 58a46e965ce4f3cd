package postfix

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
	"golang.org/x/sys/unix"
)

// ErrBackupRefused marks a backup folder, archive or copy that restore will not trust: what it
// would put into the queue would not be exactly what mqsql saved (backupfolder.ErrRefused).
var ErrBackupRefused = backupfolder.ErrRefused

// ReadManifest reads a backup folder's manifest. It refuses a folder or manifest that is not
// a plain directory and file (links, FIFOs) or that another user could have written.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	err := backupfolder.ReadManifest(dir, &m)
	return m, err
}

// checkSpool refuses a backup made of another spool than the one restore writes to, or by
// another MTA's driver.
func (s *Spool) checkSpool(dir string, m Manifest) error {
	return backupfolder.CheckSpool(dir, backupfolder.Header{Spool: m.Spool, MTA: m.MTA}, s.Dir(), "postfix")
}

// Restore puts every message of a backup folder back into the queue the way postsuper -r
// requeues mail: the saved queue file goes into maildrop/ (owned by the queue's owner, mode
// 0700, so pickup treats it as requeued mail and keeps its envelope), and pickup gives it a new
// queue ID and delivers it as normal. It refuses a folder not made of this spool or writable
// by others, and refuses each copy whose checksum does not match the manifest or that is not
// a complete Postfix queue file with the manifest's sender and recipients. The copies are
// streamed from the archive in one pass, never held whole in memory. intend (nil: none) is
// told of each copy right before it gets a name pickup takes in, and j (mqsql.RestoreJournal)
// too; a message j says an earlier run put back, or was putting back, is left alone. Each
// result's Maildrop is its name in maildrop/, its Ref the copy's log_ident, which pickup keeps
// in the new file.
func (s *Spool) Restore(dir string, intend func(mqsql.Intent), j mqsql.RestoreJournal) ([]mqsql.Restored, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := s.checkSpool(dir, m); err != nil {
		return nil, err
	}
	out := make([]mqsql.Restored, len(m.Messages))
	byName := make(map[string]int, len(m.Messages))
	for i, msg := range m.Messages {
		out[i] = mqsql.Restored{RestoredID: mqsql.RestoredID{QueueID: msg.QueueID, Queue: msg.Queue}, Folder: dir}
		if !ValidQueueID(msg.QueueID) || !filepath.IsLocal(msg.QueueFile) {
			out[i].Err = fmt.Errorf("backup entry %q: invalid queue ID or file name", msg.QueueID)
			continue
		}
		if backupfolder.SkipEarlier(j, msg.QueueID, &out[i]) {
			continue
		}
		byName[msg.QueueFile] = i
		out[i].Err = errors.New("the saved copy is missing from the backup")
	}
	err = backupfolder.EachFile(dir, m.Archive, func(name string, r io.Reader, size int64) {
		if i, ok := byName[name]; ok {
			var ident string
			out[i].Maildrop, ident, out[i].Err = s.restoreOne(m.Messages[i], r, size, intend, j)
			out[i].Ref = ident
			delete(byName, name) // a name listed twice in a forged archive is restored once
		}
	})
	return out, err
}

// maxSavedFile bounds the size of one restored copy: far above Postfix's message_size_limit
// defaults. A copy is streamed to disk, so the bound is on disk use, not memory.
const maxSavedFile = 1 << 30

// restoreOne streams one saved copy into a hidden file in maildrop while hashing it, checks
// it, and only then gives it a name pickup takes in.
func (s *Spool) restoreOne(msg BackedUpMessage, r io.Reader, size int64, intend func(mqsql.Intent), j mqsql.RestoreJournal) (name, ident string, err error) {
	if size > maxSavedFile {
		return "", "", fmt.Errorf("%w: saved copy of %s is %d bytes, over the %d-byte limit", ErrBackupRefused, msg.QueueID, size, int64(maxSavedFile))
	}
	md, err := s.root.Open(string(mqsql.Maildrop), true)
	if err != nil {
		return "", "", fmt.Errorf("open maildrop: %w", err)
	}
	defer md.Close()
	tmp := fmt.Sprintf(".mqsql-restore.%d.%s", os.Getpid(), msg.QueueID)
	fd, err := unix.Openat(int(md.Fd()), tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("create file in maildrop: %w", err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	if ident, err = s.fillChecked(f, msg, r); err != nil {
		f.Close()
		unix.Unlinkat(int(md.Fd()), tmp, 0)
		return "", "", err
	}
	if intend != nil {
		// Known by log_ident, the copy in maildrop (named queueID as a rule) and the new file
		// are recognised whenever they arrive, and the old ID's own pending intent (the
		// delete's, if the watcher has not seen it yet) stays its. Without one, only the copy
		// can be.
		in := mqsql.Intent{Reappears: true, LogIdent: ident}
		if ident == "" {
			in.QueueID = msg.QueueID
		}
		intend(in)
	}
	if err := j.Putting(msg.QueueID); err != nil {
		unix.Unlinkat(int(md.Fd()), tmp, 0)
		return "", "", err
	}
	name, err = s.publish(md, tmp, msg.QueueID)
	if err == nil {
		j.Put(mqsql.RestoredID{QueueID: msg.QueueID, Queue: msg.Queue, Maildrop: name})
	}
	return name, ident, err
}

// fillChecked copies the saved bytes into f while hashing them, then checks the checksum and
// that f is the queue file the manifest describes; it leaves f owned by the queue's owner.
func (s *Spool) fillChecked(f *os.File, msg BackedUpMessage, r io.Reader) (ident string, err error) {
	h := sha256.New()
	n, err := io.Copy(f, io.TeeReader(r, h))
	if err != nil {
		return "", fmt.Errorf("write maildrop file: %w", err)
	}
	if hex.EncodeToString(h.Sum(nil)) != msg.SHA256 {
		return "", fmt.Errorf("saved copy of %s does not match its checksum: not restored", msg.QueueID)
	}
	if err := checkQueueFile(f, n, msg); err != nil {
		return "", err
	}
	ident, _ = logIdentOf(fdReader(int(f.Fd())), n)
	owner, err := s.queueOwner()
	if err != nil {
		return "", err
	}
	return ident, ownAndSync(f, owner)
}

// checkQueueFile refuses a copy that is not a complete queue file as Postfix's cleanup writes
// it (a size record first, an envelope with a sender, an end record) or whose sender and
// pending recipients differ from the manifest's: a checksum only says the bytes are the ones
// listed, not that they are mail.
func checkQueueFile(f *os.File, size int64, msg BackedUpMessage) error {
	var m mqsql.Message
	m.Size = -1
	if err := parseQueueFile(fdReader(int(f.Fd())), size, &m, nil); err != nil {
		return fmt.Errorf("%w: saved copy of %s is not a complete Postfix queue file: %v", ErrBackupRefused, msg.QueueID, err)
	}
	if m.Size < 0 {
		return fmt.Errorf("%w: saved copy of %s has no size record: it is not a queue file Postfix's cleanup wrote", ErrBackupRefused, msg.QueueID)
	}
	if m.Sender != msg.Sender {
		return fmt.Errorf("%w: saved copy of %s has sender %q, the manifest says %q", ErrBackupRefused, msg.QueueID, m.Sender, msg.Sender)
	}
	var pending []string
	for _, rc := range m.Recipients {
		if rc.Status == mqsql.Pending {
			pending = append(pending, rc.Address)
		}
	}
	if !slices.Equal(pending, msg.Recipients) {
		return fmt.Errorf("%w: saved copy of %s has recipients %q, the manifest says %q", ErrBackupRefused, msg.QueueID, pending, msg.Recipients)
	}
	return nil
}

// publish renames the checked hidden file to a free queue-ID-like name pickup takes in.
func (s *Spool) publish(md *os.File, tmp, id string) (string, error) {
	for i := 0; i < 100; i++ {
		name := id
		if i > 0 {
			name = id + "_" + strconv.Itoa(i)
		}
		err := unix.Renameat2(int(md.Fd()), tmp, int(md.Fd()), name, unix.RENAME_NOREPLACE)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			unix.Unlinkat(int(md.Fd()), tmp, 0)
			return "", fmt.Errorf("rename into maildrop: %w", err)
		}
	}
	unix.Unlinkat(int(md.Fd()), tmp, 0)
	return "", fmt.Errorf("no free name for %s in maildrop", id)
}

func ownAndSync(f *os.File, owner unix.Stat_t) error {
	defer f.Close()
	if err := unix.Fchown(int(f.Fd()), int(owner.Uid), int(owner.Gid)); err != nil {
		return fmt.Errorf("chown maildrop file: %w", err)
	}
	if err := unix.Fchmod(int(f.Fd()), 0o700); err != nil {
		return fmt.Errorf("chmod maildrop file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync maildrop file: %w", err)
	}
	return nil
}

// queueOwner returns the owner of the incoming queue directory: Postfix's mail_owner on a real
// spool, whoever owns an offline copy otherwise.
func (s *Spool) queueOwner() (unix.Stat_t, error) {
	var st unix.Stat_t
	d, err := s.root.Open(string(mqsql.Incoming), true)
	if err != nil {
		return st, fmt.Errorf("find the queue owner: %w", err)
	}
	defer d.Close()
	err = unix.Fstat(int(d.Fd()), &st)
	return st, err
}

// LogIdent returns the log_ident attribute of the queue file of e ("" when it has none).
// Pickup keeps it when it takes a requeued file in, so it ties a restored message to the new
// file without guessing from arrival time and sender.
func (s *Spool) LogIdent(e Entry) (string, error) {
	fd, err := s.root.OpenReadFD(e.File.Path, false)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", ErrGone
	}
	return logIdentOf(fdReader(fd), st.Size)
}

// logIdentOf reads the envelope records of a queue file up to the content and returns the
// value of its log_ident attribute.
func logIdentOf(r io.ReaderAt, size int64) (string, error) {
	rr := newRecordReader(r, size)
	defer rr.release()
	for {
		rec, err := rr.next()
		if err != nil {
			return "", err
		}
		switch rec.typ {
		case recPtr:
			if err := rr.jump(rec); err != nil {
				return "", err
			}
		case recMesg:
			return "", nil
		case recAttr:
			if name, value, ok := bytes.Cut(rec.data, []byte("=")); ok && string(bytes.TrimSpace(name)) == "log_ident" {
				return string(bytes.TrimSpace(value)), nil
			}
		}
	}
}

// RestoredName is the record restore leaves in a statement folder
// (backupfolder.RestoredName).
const RestoredName = backupfolder.RestoredName
