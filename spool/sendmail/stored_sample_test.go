package sendmail_test

import (
	"os"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestStoredSamples reads the real files of testdata/stored (see its README) as mailq listed
// them: the old-ID message and the display-name recipient, whose address is the one inside
// the angle brackets, with no status code and so no dsn_status.
func TestStoredSamples(t *testing.T) {
	const dir = "testdata/stored/mqueue"
	out, err := os.ReadFile("testdata/stored/mailq-v.txt")
	if err != nil {
		t.Fatal(err)
	}
	listed, _, err := sendmailtest.ParseMailq(string(out), true)
	if err != nil || len(listed) != 2 {
		t.Fatalf("mailq-v.txt: %d messages, %v", len(listed), err)
	}
	if err := (&sendmail.Driver{Config: dir + "/none.cf"}).Check(dir); err != nil {
		t.Error(err)
	}
	got := readAll(t, dir)
	for _, l := range listed {
		m := got[l.ID]
		if m == nil {
			t.Fatalf("%s: listed by mailq, not read", l.ID)
		}
		if diff := sendmailtest.Compare(l, sendmailtest.Read{ID: m.QueueID, Size: m.Size, Arrival: m.ArrivalTime,
			Sender: m.Sender, Recipients: recipients(m), Reasons: reasons(m)}, true); diff != "" || m.Error != "" {
			t.Errorf("%s: %s (error %q)", l.ID, diff, m.Error)
		}
	}
	if len(got) != len(listed) {
		t.Errorf("read %d messages, mailq lists %d", len(got), len(listed))
	}
	for _, m := range got {
		r := m.Recipients[0]
		if m.QueueID != "AAA06703" && (mqsql.Domain(r.Address) != "dockerdonkey.example" || mqsql.LocalPart(r.Address) != "admin" || r.DSNStatus != "" || !r.Deferred) {
			t.Errorf("%s: %+v", m.QueueID, r)
		}
	}
}
