package exim_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/spool/exim"
)

// TestBackupHoldsEveryFile backs up the large sample (a 1 MiB -D) and the partly delivered
// one: the archive holds each message's -H, -D and msglog byte for byte, the manifest names
// them with the pending recipients, and a -H rewritten since the plan is refused.
func TestBackupHoldsEveryFile(t *testing.T) {
	const spool = "testdata/exim/spool"
	sp := openSpool(t, spool)
	b, err := sp.NewBackup(filepath.Join(t.TempDir(), "backups"), "root", "DELETE FROM messages", time.Unix(1796154800, 0))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"1xYTuW-00009q-2O", "1xYTuW-0000AV-2y"}
	for _, id := range ids {
		if err := b.Save(target(t, sp, id)); err != nil {
			t.Fatal(err)
		}
	}
	stale := target(t, sp, plainID)
	stale.Inode++
	if err := b.Save(stale); err == nil || !strings.Contains(err.Error(), "planned") {
		t.Errorf("Save of a rewritten -H: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got := untar(t, filepath.Join(b.Folder(), exim.ArchiveName))
	for _, id := range ids {
		for _, rel := range []string{"input/" + id + "-H", "input/" + id + "-D", "msglog/" + id} {
			want, err := os.ReadFile(filepath.Join(spool, rel))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[id+"/"+rel], want) {
				t.Errorf("archive's %s/%s: %d bytes, the spool's %d", id, rel, len(got[id+"/"+rel]), len(want))
			}
		}
	}
	var m exim.Manifest
	data, err := os.ReadFile(filepath.Join(b.Folder(), exim.ManifestName))
	if err != nil || json.Unmarshal(data, &m) != nil {
		t.Fatalf("manifest: %v", err)
	}
	if len(m.Messages) != 2 || strings.Join(m.Messages[1].Recipients, ",") != "b@remote.test" || len(m.Messages[1].Files) != 3 || m.MTA != "exim" {
		t.Errorf("manifest %+v", m)
	}
}

func untar(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[h.Name] = data
	}
}
