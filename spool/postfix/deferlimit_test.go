package postfix_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/spoolgen"
	"github.com/mqsql/mqsql/spool/postfix"
)

// TestDeferLogLimit reads a message of one recipient whose defer log names 150 other
// recipients and repeats its own 1,000 times: the row keeps the recipient's last reason, 100
// of the others, and an error saying the log was cut.
func TestDeferLogLimit(t *testing.T) {
	dir := t.TempDir()
	m := &spoolgen.Message{QueueID: "4A1B2C3D4E", Kind: spoolgen.Local, ArrivalSec: 1795865417, Sender: "s@x.test",
		Recipients: []spoolgen.Recipient{{Address: "r@x.test"}}}
	data := spoolgen.Encode(m)
	cfg := postfix.DefaultConfig()
	cfg.QueueDirectory = dir
	logPath := filepath.Join(dir, cfg.RelPath("defer", m.QueueID))
	for _, d := range []string{filepath.Join(dir, "hold"), filepath.Dir(logPath)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "hold", m.QueueID), data, 0o700); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&log, "\nrecipient=r@x.test\noffset=%d\nstatus=4.4.1\nreason=try %d\n\n", m.Recipients[0].Offset, i)
		if i < 150 {
			fmt.Fprintf(&log, "\nrecipient=other%d@x.test\nstatus=4.4.1\nreason=other\n\n", i)
		}
	}
	if err := os.WriteFile(logPath, []byte(log.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := postfix.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	got, err := sp.Read(postfix.Entry{Queue: mqsql.Hold, QueueID: m.QueueID, File: mqsql.FileInfo{Path: "hold/" + m.QueueID}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "defer log names more than 101 distinct recipients"; !strings.Contains(got.Error, want) {
		t.Errorf("error %q, want it to contain %q", got.Error, want)
	}
	if len(got.Recipients) != 101 || got.Recipients[0].DelayReason != "try 999" {
		t.Errorf("%d recipients, the first with reason %q; want 101, %q", len(got.Recipients), got.Recipients[0].DelayReason, "try 999")
	}
}
