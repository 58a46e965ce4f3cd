package postfix

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// Restored is one message put back into the queue from a backup.
type Restored struct {
	BackedUpMessage
	// MaildropName is the name it was given in maildrop/, where pickup takes it in.
	MaildropName string
	// Folder is the statement folder it was restored from.
	Folder string
	// LogIdent is the saved copy's log_ident attribute, which pickup keeps in the new file.
	LogIdent string
	Err      error
}

// ErrBackupRefused marks a backup folder, archive or copy that restore will not trust: what it
// would put into the queue would not be exactly what mqsql saved.
var ErrBackupRefused = errors.New("backup refused")

// maxManifest bounds what restore reads of a manifest: a million messages take about 400 MB.
const maxManifest = 1 << 30

// ReadManifest reads a backup folder's manifest. It refuses a folder or manifest that is not
// a plain directory and file (links, FIFOs) or that another user could have written.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	if err := checkTrusted(dir, true); err != nil {
		return m, err
	}
	f, err := openTrusted(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("read backup %s: %w (a backup without a manifest is incomplete)", dir, err)
	}
	defer f.Close()
	if err := json.NewDecoder(io.LimitReader(f, maxManifest)).Decode(&m); err != nil {
		return m, fmt.Errorf("read backup manifest %s: %w", dir, err)
	}
	return m, nil
}

// checkTrusted refuses path unless it is a directory (dir) or regular file, not a link, owned
// by the caller and not writable by group or others.
func checkTrusted(path string, dir bool) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fmt.Errorf("read backup %s: %w", path, err)
	}
	return trustedStat(path, &st, dir)
}

func trustedStat(path string, st *unix.Stat_t, dir bool) error {
	want, kind := uint32(unix.S_IFREG), "a regular file"
	if dir {
		want, kind = unix.S_IFDIR, "a directory"
	}
	switch {
	case st.Mode&unix.S_IFMT != want:
		return fmt.Errorf("%w: %s is not %s (%s)", ErrBackupRefused, path, kind, fileType(st.Mode))
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%w: %s is owned by uid %d, not by uid %d who restores", ErrBackupRefused, path, st.Uid, os.Geteuid())
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o)", ErrBackupRefused, path, st.Mode&0o7777)
	}
	return nil
}

// openTrusted opens a file of a backup without following a link and without blocking on a
// FIFO, and checks what it opened with fstat.
func openTrusted(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := trustedStat(path, &st, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// checkSpool refuses a backup made of another spool than the one restore writes to.
func (s *Spool) checkSpool(dir string, m Manifest) error {
	if m.Spool == "" || !sameSpool(m.Spool, s.Dir()) {
		return fmt.Errorf("%w: %s was made of the spool %q, not of %q: name that spool with --spool", ErrBackupRefused, dir, m.Spool, s.Dir())
	}
	return nil
}

func sameSpool(a, b string) bool {
	if aa, err := filepath.Abs(a); err == nil {
		if bb, err := filepath.Abs(b); err == nil && aa == bb {
			return true
		}
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// Restore puts every message of a backup folder back into the queue the way postsuper -r
// requeues mail: the saved queue file goes into maildrop/ (owned by the queue's owner, mode
// 0700, so pickup treats it as requeued mail and keeps its envelope), and pickup gives it a new
// queue ID and delivers it as normal. It refuses a folder not made of this spool or writable
// by others, and refuses each copy whose checksum does not match the manifest or that is not
// a complete Postfix queue file with the manifest's sender and recipients. The copies are
// streamed from the archive in one pass, never held whole in memory.
func (s *Spool) Restore(dir string) ([]Restored, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := s.checkSpool(dir, m); err != nil {
		return nil, err
	}
	out := make([]Restored, len(m.Messages))
	byName := make(map[string]int, len(m.Messages))
	for i, msg := range m.Messages {
		out[i] = Restored{BackedUpMessage: msg, Folder: dir}
		if !ValidQueueID(msg.QueueID) || !filepath.IsLocal(msg.QueueFile) {
			out[i].Err = fmt.Errorf("backup entry %q: invalid queue ID or file name", msg.QueueID)
			continue
		}
		byName[msg.QueueFile] = i
		out[i].Err = errors.New("the saved copy is missing from the backup")
	}
	err = eachCopy(dir, m, func(name string, r io.Reader, size int64) {
		if i, ok := byName[name]; ok {
			out[i].MaildropName, out[i].LogIdent, out[i].Err = s.restoreOne(out[i].BackedUpMessage, r, size)
			delete(byName, name) // a name listed twice in a forged archive is restored once
		}
	})
	return out, err
}

// eachCopy calls fn with each regular file saved in a backup's archive, in order, as a stream.
func eachCopy(dir string, m Manifest, fn func(name string, r io.Reader, size int64)) error {
	if m.Archive == "" {
		return fmt.Errorf("backup %s names no archive: it was made by an earlier mqsql, which kept each copy as a file in the folder", dir)
	}
	if !filepath.IsLocal(m.Archive) {
		return fmt.Errorf("backup %s: invalid archive name %q", dir, m.Archive)
	}
	f, err := openTrusted(filepath.Join(dir, m.Archive))
	if err != nil {
		return fmt.Errorf("read backup archive: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read backup archive %s: %w", f.Name(), err)
		}
		if hdr.Typeflag == tar.TypeReg {
			fn(hdr.Name, tr, hdr.Size)
		}
	}
}

// maxSavedFile bounds the size of one restored copy: far above Postfix's message_size_limit
// defaults. A copy is streamed to disk, so the bound is on disk use, not memory.
const maxSavedFile = 1 << 30

// restoreOne streams one saved copy into a hidden file in maildrop while hashing it, checks
// it, and only then gives it a name pickup takes in.
func (s *Spool) restoreOne(msg BackedUpMessage, r io.Reader, size int64) (name, ident string, err error) {
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
	if s.Restoring != nil {
		s.Restoring(msg.QueueID, ident)
	}
	name, err = s.publish(md, tmp, msg.QueueID)
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

// BackupSummary is one statement folder under a backup base, for listing: what restore
// would put back if given that folder.
type BackupSummary struct {
	Dir    string
	Time   string
	SQL    string
	Count  int
	Queues map[string]int // queue the messages were deleted from -> count
}

// IsBackupBase reports whether dir is a backup base (it has no manifest of its own), so that
// restore can list its folders instead of failing on the missing manifest.
func IsBackupBase(dir string) bool {
	var st unix.Stat_t
	return unix.Lstat(filepath.Join(dir, ManifestName), &st) != nil && unix.Lstat(filepath.Join(dir, mqsql.AuditName), &st) == nil
}

// ListBackups summarizes every statement folder under base, oldest first; a folder whose
// manifest cannot be read is listed with the reason as its SQL.
func ListBackups(base string) ([]BackupSummary, error) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("list backups in %s: %w", base, err)
	}
	var out []BackupSummary
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		m, err := ReadManifest(dir)
		if err != nil {
			out = append(out, BackupSummary{Dir: dir, SQL: err.Error()})
			continue
		}
		sum := BackupSummary{Dir: dir, Time: m.Time.Format("2006-01-02 15:04:05Z"), SQL: m.SQL, Count: len(m.Messages), Queues: map[string]int{}}
		for _, msg := range m.Messages {
			sum.Queues[msg.Queue]++
		}
		out = append(out, sum)
	}
	return out, nil
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

// RestoredID is one line of restore's record (mqsql.RestoredID).
type RestoredID = mqsql.RestoredID

// RestoredName is the record restore leaves in a statement folder; later restores of the
// same folder add restored.2.json and so on.
const RestoredName = "restored.json"

// WriteRestored records in the statement folder dir what a restore put back and under which
// new queue IDs, next to the manifest it came from. It never overwrites an earlier record.
func WriteRestored(dir string, now time.Time, ids []RestoredID) error {
	data, err := json.MarshalIndent(struct {
		Time     time.Time    `json:"time"`
		Messages []RestoredID `json:"messages"`
	}{now.UTC(), ids}, "", "  ")
	if err != nil {
		return err
	}
	for i := 1; i < 100; i++ {
		name := RestoredName
		if i > 1 {
			name = fmt.Sprintf("restored.%d.json", i)
		}
		fd, err := unix.Open(filepath.Join(dir, name), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("record restore in %s: %w", dir, err)
		}
		f := os.NewFile(uintptr(fd), name)
		_, err = f.Write(append(data, '\n'))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return fmt.Errorf("record restore in %s: too many earlier records", dir)
}
