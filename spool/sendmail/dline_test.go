package sendmail_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestDataFileInOtherDirectory reads a sample control file given a d line (Sendmail's record
// of a df kept in another queue directory, qp_name relative to QueueDirectory): the size and
// body are the df's there, and DELETE removes that df, not one beside the control file.
func TestDataFileInOtherDirectory(t *testing.T) {
	base := t.TempDir()
	slow := filepath.Join(base, "slow")
	if err := os.Mkdir(slow, 0o700); err != nil {
		t.Fatal(err)
	}
	qf, err := os.ReadFile(filepath.Join(samples, "mqueue", "qf6B1Jtw3U007621"))
	if err != nil {
		t.Fatal(err)
	}
	qf = []byte(strings.Replace(string(qf), "\nK", "\ndslow\nK", 1))
	body := "the body kept in slow/\n"
	for name, data := range map[string]string{filepath.Join(base, "qf6B1Jtw3U007621"): string(qf),
		filepath.Join(slow, "df6B1Jtw3U007621"): body, filepath.Join(base, "df6B1Jtw3U007621"): "a decoy\n"} {
		if err := os.WriteFile(name, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := sendmail.OpenGroups(sendmail.Queues{Base: base, Groups: []sendmail.QueueGroup{
		{Name: sendmail.DefaultGroup, Dirs: []string{base}}, {Name: "slow", Dirs: []string{slow}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var m *mqsql.Message
	err = sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, err = sp.Read(e)
		return err
	})
	if err != nil || m == nil || m.Error != "" || m.Size != int64(len(body)) {
		t.Fatalf("read %+v, %v: want size %d", m, err, len(body))
	}
	got, _, err := sp.Body(m.QueueID, 100)
	if err != nil || string(got) != body {
		t.Errorf("Body = %q, %v; want the df in slow/", got, err)
	}
	target := mqsql.Target{QueueID: m.QueueID, Queue: m.Queue, Inode: m.File.Inode, ArrivalTime: m.ArrivalTime, Path: m.File.Path, Sender: m.Sender}
	out := (&sendmail.Executor{Spool: sp, Offline: true}).Apply(context.Background(), mqsql.OpDelete, m.Queue, []mqsql.Target{target})
	if out[0].Result != mqsql.Applied || !strings.Contains(out[0].Detail, "slow/df6B1Jtw3U007621") {
		t.Errorf("delete: %s %q", out[0].Result, out[0].Detail)
	}
	if _, err := os.Stat(filepath.Join(base, "df6B1Jtw3U007621")); err != nil {
		t.Errorf("the df beside the control file, which it does not name, was removed: %v", err)
	}
}
