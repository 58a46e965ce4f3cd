package exim_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/exim"
)

// TestDriver locates the spool through a stand-in exim that answers -bP spool_directory as
// Exim does, tells an Exim spool from other directories, and opens the located spool live
// and any other spool with every operation refused.
func TestDriver(t *testing.T) {
	spool, _ := filepath.Abs("testdata/exim/spool")
	bin := t.TempDir()
	writeScript(t, filepath.Join(bin, "exim4"), "#!/bin/sh\n[ \"$1 $2\" = '-bP spool_directory' ] && echo 'spool_directory = "+spool+"'\n")
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	d := &exim.Driver{}
	if dir, err := d.Locate(context.Background()); dir != spool || err != nil || !d.Installed() || d.Name() != "exim" {
		t.Errorf("Locate = %s, %v; Installed %v", dir, err, d.Installed())
	}
	var nq *mqsql.NotQueueError
	if err := d.Check("../../testdata/spool"); !errors.As(err, &nq) || nq.MTA != "Exim" {
		t.Errorf("Check(a Postfix queue) = %v", err)
	}
	if err := d.Check(spool); err != nil {
		t.Errorf("Check(an Exim spool) = %v", err)
	}
	live, err := d.Open(context.Background(), spool, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, name := live.Executor(false); !live.Live() || name != "exim" {
		t.Errorf("the located spool: live %v, executor %s", live.Live(), name)
	}
	other, err := d.Open(context.Background(), "testdata/exim/spool-split", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ex, name := other.Executor(false)
	out := ex.Apply(context.Background(), mqsql.OpDelete, mqsql.Deferred, []mqsql.Target{{QueueID: "1xYTug-0000GD-0k"}})
	if other.Live() || name != "refused" || out[0].Result != mqsql.Failed || !strings.Contains(out[0].Detail, "not the installed Exim's") {
		t.Errorf("another spool: live %v, executor %s, %+v", other.Live(), name, out)
	}
}
