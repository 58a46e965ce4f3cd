package sendmail_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestBackup copies a message's control file and df into the statement's archive, with a
// manifest naming them; a replaced message is refused.
func TestBackup(t *testing.T) {
	dir := copyQueue(t, false)
	tg := targets(t, dir)
	sp := open(t, dir)
	b, err := sp.BeginBackup(filepath.Join(t.TempDir(), "backups"), "DELETE FROM messages", time.Unix(1796154958, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(tg["6B1Ju3vJ007906"]); err != nil {
		t.Fatal(err)
	}
	replaced := tg["6B1Jtw3U007621"]
	replaced.ArrivalTime++
	if err := b.Save(replaced); err == nil {
		t.Error("a replaced message was backed up")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("tar", "-tf", filepath.Join(b.Folder(), sendmail.ArchiveName)).Output()
	if err != nil || string(list) != "6B1Ju3vJ007906/hf6B1Ju3vJ007906\n6B1Ju3vJ007906/df6B1Ju3vJ007906\n" {
		t.Errorf("archive lists %q, %v", list, err)
	}
	data, err := os.ReadFile(filepath.Join(b.Folder(), sendmail.ManifestName))
	var m sendmail.Manifest
	if err != nil || json.Unmarshal(data, &m) != nil || len(m.Messages) != 1 || m.MTA != "sendmail" ||
		strings.Join(m.Messages[0].Recipients, ",") != "bob@dest.example" || m.Messages[0].DataFile == "" {
		t.Errorf("manifest %s, %v", data, err)
	}
}
