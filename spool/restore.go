package spool

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// Restored is one message put back into the queue from a backup.
type Restored struct {
	BackedUpMessage
	// MaildropName is the name it was given in maildrop/, where pickup takes it in.
	MaildropName string
	Err          error
}

// ReadManifest reads a backup folder's manifest.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("read backup %s: %w (a backup without a manifest is incomplete)", dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("read backup manifest %s: %w", dir, err)
	}
	return m, nil
}

// Restore puts every message of a backup folder back into the queue the way postsuper -r
// requeues mail: the saved queue file goes into maildrop/ (owned by the queue's owner, mode
// 0700, so pickup treats it as requeued mail and keeps its envelope), and pickup gives it a new
// queue ID and delivers it as normal. A file whose checksum does not match the manifest is
// not restored. The copies are read from the backup's archive in one pass, one at a time.
func (s *Spool) Restore(dir string) ([]Restored, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Restored, len(m.Messages))
	byName := make(map[string]int, len(m.Messages))
	for i, msg := range m.Messages {
		out[i] = Restored{BackedUpMessage: msg}
		if !ValidQueueID(msg.QueueID) || !filepath.IsLocal(msg.QueueFile) {
			out[i].Err = fmt.Errorf("backup entry %q: invalid queue ID or file name", msg.QueueID)
			continue
		}
		byName[msg.QueueFile] = i
		out[i].Err = errors.New("the saved copy is missing from the backup")
	}
	err = eachCopy(dir, m, func(name string, data []byte) {
		if i, ok := byName[name]; ok {
			out[i].MaildropName, out[i].Err = s.restoreOne(out[i].BackedUpMessage, data)
			delete(byName, name) // a name listed twice in a forged archive is restored once
		}
	})
	return out, err
}

// eachCopy calls fn with each file saved in a backup's archive, in order.
func eachCopy(dir string, m Manifest, fn func(name string, data []byte)) error {
	if m.Archive == "" {
		return fmt.Errorf("backup %s names no archive: it was made by an earlier mqsql, which kept each copy as a file in the folder", dir)
	}
	if !filepath.IsLocal(m.Archive) {
		return fmt.Errorf("backup %s: invalid archive name %q", dir, m.Archive)
	}
	f, err := os.Open(filepath.Join(dir, m.Archive))
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
		if hdr.Typeflag != tar.TypeReg || hdr.Size > maxSavedFile {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("read backup archive %s: %w", f.Name(), err)
		}
		fn(hdr.Name, data)
	}
}

// maxSavedFile bounds what restore reads of one archive entry: far above Postfix's
// message_size_limit defaults, far below what would exhaust memory.
const maxSavedFile = 1 << 30

func (s *Spool) restoreOne(msg BackedUpMessage, data []byte) (string, error) {
	if sha(data) != msg.SHA256 {
		return "", fmt.Errorf("saved copy of %s does not match its checksum: not restored", msg.QueueID)
	}
	return s.dropFile(msg.QueueID, data)
}

// dropFile writes data as a complete, requeued file in maildrop/: first under a temporary name
// pickup ignores, then renamed to a free queue-ID-like name.
func (s *Spool) dropFile(id string, data []byte) (string, error) {
	md, err := s.root.open(string(mqsql.Maildrop), true)
	if err != nil {
		return "", fmt.Errorf("open maildrop: %w", err)
	}
	defer md.Close()
	owner, err := s.queueOwner()
	if err != nil {
		return "", err
	}
	tmp := fmt.Sprintf(".mqsql-restore.%d.%s", os.Getpid(), id)
	fd, err := unix.Openat(int(md.Fd()), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", fmt.Errorf("create file in maildrop: %w", err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	if err := writeAndOwn(f, data, owner); err != nil {
		unix.Unlinkat(int(md.Fd()), tmp, 0)
		return "", err
	}
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

func writeAndOwn(f *os.File, data []byte, owner unix.Stat_t) error {
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write maildrop file: %w", err)
	}
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
	d, err := s.root.open(string(mqsql.Incoming), true)
	if err != nil {
		return st, fmt.Errorf("find the queue owner: %w", err)
	}
	defer d.Close()
	err = unix.Fstat(int(d.Fd()), &st)
	return st, err
}
