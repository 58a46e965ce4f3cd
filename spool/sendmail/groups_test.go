package sendmail_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestQueueGroupsRealSendmail queues mail into three queue groups of a real Sendmail (the
// default one, "slow", and "bulk" in two q* directories, one with qf/ and df/) and opens the
// queue the way mqsql does, from the generated sendmail.cf: one run reads every directory,
// each message as mailq lists it, with queue_name its group's as mailq -qG lists it (NULL
// for mqueue); Locations, Classify and the watched directories reach every directory.
func TestQueueGroupsRealSendmail(t *testing.T) {
	sm := sendmailtest.Require(t)
	ctx := context.Background()
	cf, err := sm.UseQueueGroups()
	if err != nil {
		t.Fatal(err)
	}
	// Sendmail picks one of a group's directories at random, weighted by free space: bulk mail
	// is queued until both of bulk's directories hold some.
	var rcpts []string
	submit := func(rcpt string) {
		t.Helper()
		rcpts = append(rcpts, rcpt)
		msg := []byte("Subject: group " + rcpt + "\n\n" + strings.Repeat("x", len(rcpts)) + "\n")
		if err := sm.Submit(ctx, "s@sender.example", []string{rcpt}, msg); err != nil {
			t.Fatal(err)
		}
	}
	submit("a@dest.example")
	submit("b@slow.example")
	for i := 0; i < 40 && !(holdsQF(t, filepath.Join(sm.Queue, "bulk/q1")) && holdsQF(t, filepath.Join(sm.Queue, "bulk/q2/qf"))); i++ {
		submit("c" + strconv.Itoa(i) + "@bulk.example")
	}
	d := &sendmail.Driver{Config: cf}
	if dir, err := d.Locate(ctx); err != nil || dir != sm.Queue {
		t.Fatalf("Locate = %s, %v; want %s", dir, err, sm.Queue)
	}
	if err := d.Check(sm.Queue); err != nil {
		t.Fatal(err)
	}
	qd, err := d.Open(ctx, sm.Queue, func(err error) { t.Errorf("warning: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer qd.Close()
	got := map[string]*mqsql.Message{}
	err = qd.Walk(ctx, func(e mqsql.Entry) error {
		m, err := qd.ReadWithin(e, nil)
		if err != nil {
			return err
		}
		got[m.QueueID] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := sm.MailqAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(rcpts) || len(got) != len(rcpts) {
		t.Fatalf("mailq lists %d messages, the driver reads %d, %d were queued", len(listed), len(got), len(rcpts))
	}
	for _, l := range listed {
		m := got[l.ID]
		if m == nil {
			t.Errorf("%s: listed, not read", l.ID)
			continue
		}
		if diff := sendmailtest.Compare(l, sendmailtest.Read{ID: m.QueueID, Size: m.Size, Arrival: m.ArrivalTime,
			Sender: m.Sender, Recipients: recipients(m)}, false); diff != "" {
			t.Errorf("%s:%s", l.ID, diff)
		}
	}
	dirs := map[string]bool{}
	for _, group := range []string{"mqueue", "slow", "bulk"} {
		inGroup, err := sm.Mailq(ctx, "-qG"+group)
		if err != nil {
			t.Fatal(err)
		}
		want := group
		if group == sendmail.DefaultGroup {
			want = ""
		}
		n := 0
		for _, m := range got {
			if m.QueueName == want {
				n++
			}
		}
		if n != len(inGroup) {
			t.Errorf("group %s: mailq -qG lists %d, the driver reads %d with queue_name %q", group, len(inGroup), n, want)
		}
		for _, l := range inGroup {
			m := got[l.ID]
			if m == nil || m.QueueName != want {
				t.Errorf("%s: in group %s, read as %+v", l.ID, group, m)
				continue
			}
			dirs[filepath.Dir(m.File.Path)] = true
			if !hasPlace(qd.Locations(m.QueueID), m.File.Path) {
				t.Errorf("%s: Locations %v lacks %s", m.QueueID, qd.Locations(m.QueueID), m.File.Path)
			}
			if c, ok := qd.Classify(m.File.Path); !ok || c.ID != m.QueueID || c.Hint != m.File.Path {
				t.Errorf("Classify(%s) = %+v, %v", m.File.Path, c, ok)
			}
			if _, err := os.Stat(filepath.Join(sm.Queue, m.File.Path)); err != nil {
				t.Errorf("%s: path %s: %v", m.QueueID, m.File.Path, err)
			}
		}
	}
	var seen []string
	for d := range dirs {
		seen = append(seen, d)
	}
	sort.Strings(seen)
	if strings.Join(seen, " ") != ". bulk/q1 bulk/q2/qf slow" {
		t.Errorf("messages were read in %v, want every group's directories", seen)
	}
	watched := strings.Join(qd.WatchedDirs(), " ")
	for _, w := range []string{"slow", "bulk/q1", "bulk/q2", "bulk/q2/qf", "bulk/q2/df"} {
		if !strings.Contains(" "+watched+" ", " "+w+" ") {
			t.Errorf("WatchedDirs %q lacks %s", watched, w)
		}
	}
}

func hasPlace(places []mqsql.Place, rel string) bool {
	for _, p := range places {
		if p.Path == rel {
			return true
		}
	}
	return false
}

// holdsQF reports whether dir holds a qf file.
func holdsQF(t *testing.T, dir string) bool {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "qf") {
			return true
		}
	}
	return false
}
