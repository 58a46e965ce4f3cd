package backupfolder

import (
	"encoding/json"
	"errors"
	"fmt"
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
// same folder add restored.2.json and so on.
const RestoredName = "restored.json"

// WriteRestored records in the statement folder dir what a restore put back and under which
// queue IDs, next to the manifest it came from. It never overwrites an earlier record.
func WriteRestored(dir string, now time.Time, ids []mqsql.RestoredID) error {
	data, err := json.MarshalIndent(struct {
		Time     time.Time          `json:"time"`
		Messages []mqsql.RestoredID `json:"messages"`
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
