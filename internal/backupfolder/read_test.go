package backupfolder_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
)

// TestCheckSpool refuses a backup of another MTA's queue or of another directory; a header
// without an MTA is Postfix's, whose manifests name none.
func TestCheckSpool(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		h      backupfolder.Header
		mta    string
		refuse string
	}{
		{"same", backupfolder.Header{Spool: dir, MTA: "sendmail"}, "sendmail", ""},
		{"postfix names none", backupfolder.Header{Spool: dir}, "postfix", ""},
		{"other MTA", backupfolder.Header{Spool: dir, MTA: "exim"}, "sendmail", "queue of --mta exim, not of --mta sendmail"},
		{"postfix's on sendmail", backupfolder.Header{Spool: dir}, "sendmail", "--mta postfix"},
		{"other spool", backupfolder.Header{Spool: t.TempDir(), MTA: "sendmail"}, "sendmail", "was made of the spool"},
	}
	for _, tt := range tests {
		err := backupfolder.CheckSpool("folder", tt.h, dir, tt.mta)
		if tt.refuse == "" && err != nil || tt.refuse != "" && (err == nil || !errors.Is(err, backupfolder.ErrRefused) || !strings.Contains(err.Error(), tt.refuse)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.refuse)
		}
	}
}

// TestListAndRecord lists a base's folders whatever MTA wrote them, refuses a folder others
// can write, and never overwrites a restore record.
func TestListAndRecord(t *testing.T) {
	base := t.TempDir()
	if err := mqsql.AppendAudit(base, mqsql.AuditRecord{Time: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	f, err := backupfolder.Create(base, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	m := struct {
		backupfolder.Header
		Messages []backupfolder.Message `json:"messages"`
	}{backupfolder.NewHeader("u", "DELETE x", "/q", "sendmail", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)),
		[]backupfolder.Message{{Queue: "hold"}, {Queue: "deferred"}, {Queue: "hold"}}}
	if err := f.Close(m); err != nil {
		t.Fatal(err)
	}
	if !backupfolder.IsBase(base) || backupfolder.IsBase(f.Dir) {
		t.Error("IsBase mistakes the base or the folder")
	}
	list, err := backupfolder.List(base)
	if err != nil || len(list) != 1 || list[0].Count != 3 || list[0].Queues["hold"] != 2 || list[0].SQL != "DELETE x" || list[0].Time != "2026-12-01 10:00:00Z" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	for i, want := range []string{backupfolder.RestoredName, "restored.2.json"} {
		if err := backupfolder.WriteRestored(f.Dir, backupfolder.RestoredRecord{Time: time.Unix(int64(i), 0), Messages: []mqsql.RestoredID{{QueueID: "A"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(f.Dir, want)); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
	}
	if err := os.Chmod(f.Dir, 0o777); err != nil {
		t.Fatal(err)
	}
	list, _ = backupfolder.List(base)
	if len(list) != 1 || !strings.Contains(list[0].SQL, "writable by group or others") {
		t.Errorf("a folder others can write is listed as %+v", list)
	}
}
