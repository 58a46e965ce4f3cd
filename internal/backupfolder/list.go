package backupfolder

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// Summary is one statement folder under a backup base, for listing: what restore would put
// back if given that folder.
type Summary struct {
	Dir    string
	Time   string
	SQL    string
	Count  int
	Queues map[string]int // queue the messages were deleted from -> count
}

// IsBase reports whether dir is a backup base (it has no manifest of its own, and an audit
// log), so that restore can list its folders instead of failing on the missing manifest.
func IsBase(dir string) bool {
	var st unix.Stat_t
	return unix.Lstat(filepath.Join(dir, ManifestName), &st) != nil && unix.Lstat(filepath.Join(dir, mqsql.AuditName), &st) == nil
}

// List summarizes every statement folder under base, oldest first, whichever MTA's backup
// each is (all manifests share Header and Message's queue); a folder whose manifest cannot be
// read is listed with the reason as its SQL.
func List(base string) ([]Summary, error) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("list backups in %s: %w", base, err)
	}
	var out []Summary
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		var m struct {
			Header
			Messages []struct {
				Queue string `json:"queue"`
			} `json:"messages"`
		}
		if err := ReadManifest(dir, &m); err != nil {
			out = append(out, Summary{Dir: dir, SQL: err.Error()})
			continue
		}
		sum := Summary{Dir: dir, Time: m.Time.Format("2006-01-02 15:04:05Z"), SQL: m.SQL, Count: len(m.Messages), Queues: map[string]int{}}
		for _, msg := range m.Messages {
			sum.Queues[msg.Queue]++
		}
		out = append(out, sum)
	}
	return out, nil
}

// RestoredName is the record restore leaves in a statement folder; later restores of the
// same folder (--again) add restored.2.json and so on.
const RestoredName = "restored.json"

// RestoredRecord is what a restore leaves in the statement folder: when, by whom, under which
// audit record, and what came back under which queue ID.
type RestoredRecord struct {
	Time     time.Time          `json:"time"`
	User     string             `json:"user,omitempty"`
	AuditID  string             `json:"audit_id,omitempty"`
	Messages []mqsql.RestoredID `json:"messages"`
}

// WriteRestored records in the statement folder dir what a restore put back, next to the
// manifest it came from, flushed to disk. It never overwrites an earlier record.
func WriteRestored(dir string, rec RestoredRecord) error {
	rec.Time = rec.Time.UTC()
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	for i := 1; i < 100; i++ {
		fd, err := unix.Open(filepath.Join(dir, restoredName(i)), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("record restore in %s: %w", dir, err)
		}
		f := os.NewFile(uintptr(fd), restoredName(i))
		_, err = f.Write(append(data, '\n'))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(dir)
		}
		return err
	}
	return fmt.Errorf("record restore in %s: too many earlier records", dir)
}

// restoredName is the name of the i-th restore record of a folder (from 1).
func restoredName(i int) string {
	if i == 1 {
		return RestoredName
	}
	return fmt.Sprintf("restored.%d.json", i)
}

// LastRestored reads the newest restore record of the statement folder dir; ok is false when
// the folder was never restored. A record that cannot be read counts as a restore (its time
// zero): a folder is never taken for unrestored because its record is damaged.
func LastRestored(dir string) (rec RestoredRecord, ok bool, err error) {
	last := 0
	for i := 1; i < 100; i++ {
		var st unix.Stat_t
		if unix.Lstat(filepath.Join(dir, restoredName(i)), &st) != nil {
			break
		}
		last = i
	}
	if last == 0 {
		return rec, false, nil
	}
	f, err := OpenTrusted(filepath.Join(dir, restoredName(last)))
	if err != nil {
		return rec, true, err
	}
	defer f.Close()
	if err := json.NewDecoder(io.LimitReader(f, maxManifest)).Decode(&rec); err != nil {
		return rec, true, fmt.Errorf("read restore record in %s: %w", dir, err)
	}
	return rec, true, nil
}

// Interrupted reports whether a restore of the statement folder dir stopped half way (its
// journal is still there) and how many messages it had put back.
func Interrupted(dir string) (bool, int) {
	j, err := openJournalRead(filepath.Join(dir, JournalName))
	if err != nil {
		return false, 0
	}
	return true, len(j.put)
}
