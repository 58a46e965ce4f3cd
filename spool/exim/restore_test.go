package exim_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/exim"
)

// Messages of restoreSpool by what they test.
const (
	frozenID  = "1xYTuW-0000A1-2X" // frozen: its -H has a -frozen line
	namedID   = "1xYTuY-0000CX-0y" // in the named queue slowq
	journalID = "1xYTuY-0000Cg-18" // copied during a delivery: it has a -J
	splitID   = "1xYTug-0000GD-0k" // in the split subdirectory input/g/
)

var restoredIDs = []string{plainID, frozenID, namedID, journalID, splitID}

// restoreSpool is a copy of the sample spool with the journal snapshot's message (its -H, -D,
// -J and msglog) and the split spool's message (in input/g/, as Exim keeps it when
// split_spool_directory is set) added, its files with Exim's modes (0640, directories 0750).
func restoreSpool(t *testing.T) string {
	t.Helper()
	dir := testspool.Copy(t, "testdata/exim/spool")
	snap := "testdata/exim/journal-snapshot/"
	for from, to := range map[string]string{
		snap + journalID + "-H": "input/" + journalID + "-H", snap + journalID + "-D": "input/" + journalID + "-D",
		snap + journalID + "-J": "input/" + journalID + "-J", snap + "msglog-" + journalID: "msglog/" + journalID,
		"testdata/exim/spool-split/input/g/" + splitID + "-H": "input/g/" + splitID + "-H",
		"testdata/exim/spool-split/input/g/" + splitID + "-D": "input/g/" + splitID + "-D",
		"testdata/exim/spool-split/msglog/g/" + splitID:       "msglog/g/" + splitID,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, to)), 0o750); err != nil {
			t.Fatal(err)
		}
		copyFile(t, from, filepath.Join(dir, to))
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o750)
		}
		return os.Chmod(p, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// spoolFile is one file of a spool as a test compares it.
type spoolFile struct {
	data []byte
	mode fs.FileMode
}

// spoolFiles returns every file of the spool by its relative path.
func spoolFiles(t *testing.T, dir string) map[string]spoolFile {
	t.Helper()
	out := map[string]spoolFile{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = spoolFile{data, info.Mode()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// backUpAndRemove backs up the messages ids of the spool at dir, then removes their files as
// exim -Mrm does, and returns the backup folder.
func backUpAndRemove(t *testing.T, dir string, ids []string) string {
	t.Helper()
	sp := openSpool(t, dir)
	b, err := sp.NewBackup(filepath.Join(t.TempDir(), "backups"), "root", "DELETE FROM messages", time.Unix(1796154800, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := b.Save(target(t, sp, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for rel := range spoolFiles(t, dir) {
		for _, id := range ids {
			if strings.Contains(rel, id) {
				if err := os.Remove(filepath.Join(dir, rel)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return b.Folder()
}

// restore runs one restore run of folder into the spool at dir.
func restore(t *testing.T, dir, folder string) []mqsql.Restored {
	t.Helper()
	sp := openSpool(t, dir)
	var intended []string
	run, err := sp.BeginRestore(t.Context(), func(in mqsql.Intent) { intended = append(intended, in.QueueID) })
	if err != nil {
		t.Fatal(err)
	}
	rs, err := run.Folder(folder, mqsql.NoJournal{})
	if err != nil {
		t.Fatalf("restore %s: %v", folder, err)
	}
	run.Finish(t.Context(), rs, 0)
	var got []string
	for _, r := range rs {
		if r.Err == nil {
			got = append(got, r.NewQueueID)
		}
	}
	if !slices.Equal(got, intended) {
		t.Errorf("restored %v, intents said %v", got, intended)
	}
	return rs
}

// listing is what restore must give back unchanged: each message's ID, queue, sender, size,
// arrival time, recipients and path.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, m := range readAll(t, openSpool(t, dir)) {
		var rcpts []string
		for _, r := range m.Recipients {
			rcpts = append(rcpts, r.Address+"="+string(r.Status))
		}
		out = append(out, strings.Join([]string{m.QueueID, string(m.Queue), m.QueueName, m.Sender, FormatSize(m.Size),
			time.Unix(m.ArrivalTime, 0).UTC().String(), strings.Join(rcpts, ","), m.File.Path}, " "))
	}
	slices.Sort(out)
	return out
}

// TestRestoreOnSample backs up and removes a plain, a frozen, a named queue's, a partly
// delivered (-J) and a split spool's message, and restores them: every file is back byte for
// byte with its mode, under its own ID and in its own directory, the frozen one is held, and
// the spool reads as before. Restoring the same folder again gives each message a new ID
// (its own being taken), which its -H and -D name on their first lines, in the new ID's split
// subdirectory for the split one; nothing hidden is left behind.
func TestRestoreOnSample(t *testing.T) {
	dir := restoreSpool(t)
	orig := spoolFiles(t, dir)
	before := listing(t, dir)
	folder := backUpAndRemove(t, dir, restoredIDs)
	if left := len(spoolFiles(t, dir)); left != len(orig)-16 {
		t.Fatalf("%d files left, want %d", left, len(orig)-16)
	}
	for _, r := range restore(t, dir, folder) {
		if r.Err != nil || r.NewQueueID != r.QueueID || r.Where != r.QueueID || r.Held != (r.QueueID == frozenID) {
			t.Errorf("%s: %+v", r.QueueID, r)
		}
	}
	now := spoolFiles(t, dir)
	for rel, f := range orig {
		if !bytes.Equal(now[rel].data, f.data) || now[rel].mode != f.mode {
			t.Errorf("%s: restored %d bytes mode %v, the original %d bytes mode %v", rel, len(now[rel].data), now[rel].mode, len(f.data), f.mode)
		}
	}
	if len(now) != len(orig) {
		t.Errorf("%d files after restore, %d before", len(now), len(orig))
	}
	if after := listing(t, dir); !slices.Equal(after, before) {
		t.Errorf("after restore:\n%s\nbefore the delete:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}

	again := restore(t, dir, folder)
	for _, r := range again {
		if r.Err != nil || r.NewQueueID == r.QueueID || !exim.ValidQueueID(r.NewQueueID) || !strings.Contains(r.Where, "(a new message ID: "+r.QueueID+" is in use") {
			t.Fatalf("second restore of %s: %+v", r.QueueID, r)
		}
		h, _ := os.ReadFile(filepath.Join(dir, r.Path))
		d, _ := os.ReadFile(filepath.Join(dir, filepath.Dir(r.Path), r.NewQueueID+"-D"))
		if !bytes.HasPrefix(h, []byte(r.NewQueueID+"-H\n")) || !bytes.HasPrefix(d, []byte(r.NewQueueID+"-D\n")) {
			t.Errorf("%s as %s: -H starts %q, -D %q", r.QueueID, r.Path, h[:min(len(h), 20)], d[:min(len(d), 20)])
		}
		if r.QueueID == splitID && r.Path != "input/"+r.NewQueueID[5:6]+"/"+r.NewQueueID+"-H" {
			t.Errorf("split message restored as %s", r.Path)
		}
	}
	if n := len(listing(t, dir)); n != len(before)+len(restoredIDs) {
		t.Errorf("%d messages after two restores, want %d", n, len(before)+len(restoredIDs))
	}
	for rel := range spoolFiles(t, dir) {
		if strings.Contains(rel, ".mqsql-restore") {
			t.Errorf("left behind: %s", rel)
		}
	}
}

// TestRestoreRefuses: a backup whose -D was altered, one of another MTA's queue, one whose
// entry names a path outside the input directories, and one without checksums are refused,
// and the spool is left as it was.
func TestRestoreRefuses(t *testing.T) {
	dir := restoreSpool(t)
	folder := backUpAndRemove(t, dir, []string{plainID})
	left := spoolFiles(t, dir)
	manifest := filepath.Join(folder, exim.ManifestName)
	pristine, _ := os.ReadFile(manifest)

	editArchive(t, filepath.Join(folder, exim.ArchiveName), plainID+"/input/"+plainID+"-D", func(b []byte) []byte {
		return bytes.Replace(b, []byte("Hello"), []byte("Howdy"), 1)
	})
	rs := restore(t, dir, folder)
	if len(rs) != 1 || rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "saved copy of "+plainID+"-D does not match its checksum") {
		t.Errorf("altered -D: %+v", rs)
	}
	for _, tc := range []struct {
		name string
		edit func(m map[string]any, msg map[string]any)
		want string
	}{
		{"another MTA's", func(m, _ map[string]any) { m["mta"] = "sendmail" }, "was made of a queue of --mta sendmail, not of --mta exim"},
		{"outside input", func(_, msg map[string]any) { msg["original_path"] = "db/" + plainID + "-H" }, "invalid message ID or original path"},
		{"no checksums", func(_, msg map[string]any) { delete(msg, "file_sha256") }, "keeps no checksum"},
	} {
		var m map[string]any
		if err := json.Unmarshal(pristine, &m); err != nil {
			t.Fatal(err)
		}
		tc.edit(m, m["messages"].([]any)[0].(map[string]any))
		js, _ := json.Marshal(m)
		if err := os.WriteFile(manifest, js, 0o600); err != nil {
			t.Fatal(err)
		}
		sp := openSpool(t, dir)
		run, _ := sp.BeginRestore(t.Context(), nil)
		rs, err := run.Folder(folder, mqsql.NoJournal{})
		if err == nil && len(rs) == 1 {
			err = rs[0].Err
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	now := spoolFiles(t, dir)
	if len(now) != len(left) {
		t.Errorf("a refused restore changed the spool: %d files, %d before", len(now), len(left))
	}
	for rel := range now {
		if _, ok := left[rel]; !ok {
			t.Errorf("a refused restore left %s", rel)
		}
	}
}

// editArchive rewrites the entry name of the tar archive at p with edit applied to it.
func editArchive(t *testing.T, p, name string, edit func([]byte) []byte) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tr, tw := tar.NewReader(f), tar.NewWriter(&buf)
	edited := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if h.Name == name {
			data, edited = edit(data), true
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	f.Close()
	tw.Close()
	if !edited {
		t.Fatalf("%s is not in %s", name, p)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
