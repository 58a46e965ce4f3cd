package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
)

// maildropFiles counts the files in a spool copy's maildrop.
func maildropFiles(t *testing.T, dir string) int {
	t.Helper()
	left, err := os.ReadDir(filepath.Join(dir, "maildrop"))
	if err != nil {
		t.Fatal(err)
	}
	return len(left)
}

// TestRestoreOnce restores a folder, then again: the second run is refused with exit 1 and
// when and by whom, maildrop unchanged; listing the base says the folder was restored; with
// --again both messages go back a second time.
func TestRestoreOnce(t *testing.T) {
	dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
	folder, _ := onlyBackup(t, backup)
	before := maildropFiles(t, dir)
	if r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, backup); !strings.Contains(r.stdout, "[not restored]") {
		t.Errorf("listing before the restore:\n%s\n%s", r.stdout, r.stderr)
	}
	if r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, folder); r.code != exitOK {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "already restored on ") || !strings.Contains(r.stderr, " by ") || strings.Contains(r.stdout, " -> ") {
		t.Errorf("second restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := maildropFiles(t, dir); n != before+2 {
		t.Errorf("maildrop has %d files, want %d", n, before+2)
	}
	if r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, backup); !strings.Contains(r.stdout, "[restored ") {
		t.Errorf("listing after the restore:\n%s\n%s", r.stdout, r.stderr)
	}
	if r := runMQSQL(t, "", "restore", "--again", "--spool", dir, "--backup", backup, folder); r.code != exitOK || maildropFiles(t, dir) != before+4 {
		t.Errorf("restore --again: exit %d, maildrop %d\n%s\n%s", r.code, maildropFiles(t, dir), r.stdout, r.stderr)
	}
}

// TestRestoreResumes leaves the journal an interrupted restore would have left (one message
// back, or one being put back when it stopped) and restores: the message put back is not put
// back again, one in doubt is refused, every other one goes back.
func TestRestoreResumes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		inDoubt   bool
		code      int
		maildrop  int
		listState string
	}{
		{"put back", false, exitOK, 1, "[restored "},
		{"in doubt", true, exitError, 1, "[restore interrupted: 1 of 2 back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, backup := deleteWithBackup(t, "brief-long@x.test", 2)
			folder, m := onlyBackup(t, backup)
			first := m.Messages[0].QueueID
			interrupted(t, folder, first, tc.inDoubt)
			if r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, backup); !strings.Contains(r.stdout, "[restore interrupted: ") {
				t.Errorf("listing an interrupted folder:\n%s\n%s", r.stdout, r.stderr)
			}
			before := maildropFiles(t, dir)
			r := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, folder)
			if r.code != tc.code || maildropFiles(t, dir) != before+tc.maildrop || strings.Contains(r.stdout, first+" -> maildrop/"+first+"\n") {
				t.Errorf("resume: exit %d, maildrop %d (was %d)\n%s\n%s", r.code, maildropFiles(t, dir), before, r.stdout, r.stderr)
			}
			if tc.inDoubt != strings.Contains(r.stderr, "interrupted while putting this message back") {
				t.Errorf("resume says of %s:\n%s", first, r.stderr)
			}
			if l := runMQSQL(t, "", "restore", "--spool", dir, "--backup", backup, backup); !strings.Contains(l.stdout, tc.listState) {
				t.Errorf("listing after the resume:\n%s\n%s", l.stdout, l.stderr)
			}
		})
	}
}

// interrupted writes the journal of a restore of folder stopped after putting id back, or
// (inDoubt) while putting it back.
func interrupted(t *testing.T, folder, id string, inDoubt bool) {
	t.Helper()
	j, err := backupfolder.OpenJournal(folder)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Putting(id); err != nil {
		t.Fatal(err)
	}
	if !inDoubt {
		j.Put(mqsql.RestoredID{QueueID: id, Queue: "deferred", Maildrop: id})
	}
}
