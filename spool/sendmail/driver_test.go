package sendmail_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestDriverCheck recognises Sendmail queue directories (with files, or qf/ df/ subdirectories)
// and refuses others, an empty one and a Postfix queue included, as a usage error would.
func TestDriverCheck(t *testing.T) {
	d := &sendmail.Driver{Config: filepath.Join(t.TempDir(), "none.cf")}
	subdirs := t.TempDir()
	if err := os.Mkdir(filepath.Join(subdirs, "qf"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(samples, "mqueue"), copyQueue(t, true), subdirs} {
		if err := d.Check(dir); err != nil {
			t.Errorf("Check(%s) = %v", dir, err)
		}
	}
	for _, dir := range []string{t.TempDir(), "../../testdata/spool", filepath.Join(samples, "mailq.txt"), filepath.Join(t.TempDir(), "missing")} {
		var nq *mqsql.NotQueueError
		if err := d.Check(dir); !errors.As(err, &nq) || nq.MTA != "Sendmail" {
			t.Errorf("Check(%s) = %v, want a NotQueueError", dir, err)
		}
	}
	if err := d.Check(t.TempDir()); err == nil || err.Error() == "" {
		t.Error("an empty directory is a Sendmail queue")
	}
	q, err := d.Open(context.Background(), filepath.Join(samples, "mqueue"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if q.Live() {
		t.Error("a copy of a queue is live")
	}
	if _, name := q.Executor(false); name != "direct" {
		t.Errorf("executor %s on a copy", name)
	}
}
