package backupfolder_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
)

// TestJournalReplay writes a journal as an interrupted restore leaves it (one message back,
// one being put back, a last line cut short) and reads it again: the first is put back, the
// second in doubt, the cut line ignored; a run that put nothing back leaves no file.
func TestJournalReplay(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	j, err := backupfolder.OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if _, err := os.Lstat(filepath.Join(dir, backupfolder.JournalName)); !os.IsNotExist(err) {
		t.Fatalf("a journal that recorded nothing is on disk: %v", err)
	}
	j, _ = backupfolder.OpenJournal(dir)
	for _, id := range []string{"A", "B"} {
		if err := j.Putting(id); err != nil {
			t.Fatal(err)
		}
	}
	j.Put(mqsql.RestoredID{QueueID: "A", Maildrop: "A_1"})
	j.Close()
	f, _ := os.OpenFile(filepath.Join(dir, backupfolder.JournalName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"put":{"queue_id":"B"`) // a crash cut the line
	f.Close()
	j, err = backupfolder.OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, tc := range []struct {
		id    string
		state mqsql.JournalState
	}{{"A", mqsql.JournalPut}, {"B", mqsql.JournalInDoubt}, {"C", mqsql.JournalNone}} {
		if prev, state := j.Earlier(tc.id); state != tc.state || tc.id == "A" && prev.Maildrop != "A_1" {
			t.Errorf("%s: %v %+v, want state %v", tc.id, state, prev, tc.state)
		}
	}
	if ok, n := backupfolder.Interrupted(dir); !ok || n != 1 {
		t.Errorf("Interrupted = %v, %d", ok, n)
	}
	j.Put(mqsql.RestoredID{QueueID: "C"}) // after the cut line: must not be joined to it
	j.Close()
	j, _ = backupfolder.OpenJournal(dir)
	if _, state := j.Earlier("C"); state != mqsql.JournalPut {
		t.Errorf("a line written after a cut one is lost: %v", state)
	}
}
