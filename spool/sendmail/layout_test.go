package sendmail_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/sendmail"
	"golang.org/x/sys/unix"
)

// copyQueue copies the sample queue into a new directory: flat, or with control files in
// qf/ and bodies in df/ when sub is set.
func copyQueue(t *testing.T, sub bool) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(samples, "mqueue")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"qf", "df"} {
		if sub {
			if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, e.Name())
		if sub && e.Name()[0] == 'd' {
			dst = filepath.Join(dir, "df", e.Name())
		} else if sub {
			dst = filepath.Join(dir, "qf", e.Name())
		}
		if err := os.WriteFile(dst, b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func open(t *testing.T, dir string) *sendmail.Spool {
	t.Helper()
	sp, err := sendmail.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

// TestSubdirectoryLayout reads a queue with qf/ and df/ subdirectories as the same messages
// as the flat one, and watches and classifies its subdirectories.
func TestSubdirectoryLayout(t *testing.T) {
	flat := readAll(t, copyQueue(t, false))
	dir := copyQueue(t, true)
	sub := readAll(t, dir)
	if len(sub) != len(flat) || len(sub) != 12 {
		t.Fatalf("%d messages with subdirectories, %d flat", len(sub), len(flat))
	}
	for id, m := range flat {
		s := sub[id]
		if s == nil || s.Size != m.Size || s.Queue != m.Queue || s.Sender != m.Sender || !reflect.DeepEqual(s.Recipients, m.Recipients) {
			t.Errorf("%s: subdirectories %+v, flat %+v", id, s, m)
			continue
		}
		if !strings.HasPrefix(s.File.Path, "qf/") || strings.Contains(m.File.Path, "/") {
			t.Errorf("%s: paths %s and %s", id, s.File.Path, m.File.Path)
		}
	}
	sp := open(t, dir)
	if got := sp.WatchedDirs(); !reflect.DeepEqual(got, []string{"qf", "df"}) {
		t.Errorf("WatchedDirs = %v", got)
	}
	if got := open(t, copyQueue(t, false)).WatchedDirs(); len(got) != 0 {
		t.Errorf("flat WatchedDirs = %v, want none (the queue directory itself)", got)
	}
}

// TestClassify maps the watcher's paths to queue IDs.
func TestClassify(t *testing.T) {
	sp := open(t, copyQueue(t, true))
	const id = "6B1Jtw3U007621"
	tests := []struct {
		rel  string
		want mqsql.Change
		ok   bool
	}{
		{"qf", mqsql.Change{Top: true}, true},
		{"df", mqsql.Change{Top: true}, true},
		{"qf/qf" + id, mqsql.Change{ID: id, Hint: "qf/qf" + id}, true},
		{"qf/hf" + id, mqsql.Change{ID: id, Hint: "qf/hf" + id}, true},
		{"qf/Qf" + id, mqsql.Change{ID: id, Hint: "qf/Qf" + id}, true},
		{"qf/tf" + id, mqsql.Change{ID: id}, true},
		{"df/df" + id, mqsql.Change{ID: id}, true},
		// mailq lists every qf of a name shorter than MAXQFNAME (Sendmail 8.17's gatherq):
		// pre-8.12 IDs, and a qfjunk as an unreadable message.
		{"qfjunk", mqsql.Change{ID: "junk", Hint: "qfjunk"}, true},
		{"qfAAA06703", mqsql.Change{ID: "AAA06703", Hint: "qfAAA06703"}, true},
		{"qf/qf6B1Jtw3U00762x", mqsql.Change{ID: "6B1Jtw3U00762x", Hint: "qf/qf6B1Jtw3U00762x"}, true},
		{"qfABCDEFGHIJKLMNOPQRS", mqsql.Change{}, true}, // 21 bytes: gatherq says "too long"
		{"qf-a.b", mqsql.Change{}, true},                // no Sendmail writes one; never a path
		{"qf/sendmail.pid", mqsql.Change{}, true},
		{"other/qf" + id, mqsql.Change{}, false},
	}
	for _, tt := range tests {
		got, ok := sp.Classify(tt.rel)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Classify(%q) = %+v, %v; want %+v, %v", tt.rel, got, ok, tt.want, tt.ok)
		}
	}
	places := sp.Locations(id)
	want := []mqsql.Place{{Queue: mqsql.Incoming, Path: "qf/qf" + id}, {Queue: mqsql.Hold, Path: "qf/hf" + id}, {Queue: mqsql.Corrupt, Path: "qf/Qf" + id}}
	if !reflect.DeepEqual(places, want) {
		t.Errorf("Locations = %v, want %v", places, want)
	}
	if sp.Locations("../etc/passwd") != nil || !sp.ValidQueueID("AAA06703") || !sp.ValidQueueID("6B1Jtw3U1234567") || sp.ValidQueueID("ABCDEFGHIJKLMNOPQRS") || sp.ValidQueueID("../x") {
		t.Error("queue ID validation")
	}
}

// TestActiveWhileLocked: a qf a queue runner holds (flock, as Sendmail takes it) reads as
// active and has a lock stamp, without the reader ever taking the lock; once released it is
// incoming again.
func TestActiveWhileLocked(t *testing.T) {
	dir := copyQueue(t, false)
	const id = "6B1Jtw3U007621"
	sp := open(t, dir)
	f, err := os.OpenFile(filepath.Join(dir, "qf"+id), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, dir)
	if got[id].Queue != mqsql.Active || !got[id].File.Locked {
		t.Errorf("locked: queue %s, stamp %+v", got[id].Queue, got[id].File.Stamp)
	}
	if e, ok, err := sp.Stat(mqsql.Incoming, id, "qf"+id); err != nil || !ok || !e.File.Locked {
		t.Errorf("locked: Stat %+v %v %v", e, ok, err)
	}
	walked := false
	err = sp.Walk(context.Background(), func(e mqsql.Entry) error {
		if e.QueueID == id {
			walked = true
			if !e.File.Locked {
				t.Errorf("locked: the walk's stamp %+v", e.File.Stamp)
			}
		}
		return nil
	})
	if err != nil || !walked {
		t.Errorf("locked: walk found it %v, %v", walked, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	sp.ForgetLocks()
	m, err := sp.Read(mqsql.Entry{Queue: mqsql.Incoming, QueueID: id, File: mqsql.FileInfo{Path: "qf" + id}})
	if err != nil || m.Queue != mqsql.Incoming || m.File.Locked {
		t.Errorf("released: %+v, %v", m, err)
	}
	if e, ok, err := sp.Stat(mqsql.Incoming, id, "qf"+id); err != nil || !ok || e.File.Locked {
		t.Errorf("released: Stat %+v %v %v", e, ok, err)
	}
}

// TestRewriteChangesStamp: Sendmail rewrites a qf by writing tf and renaming it over the qf;
// the stamp a walk lists must change even when size and mtime stay the same.
func TestRewriteChangesStamp(t *testing.T) {
	dir := copyQueue(t, false)
	const rel = "qf6B1Ju3Si007919"
	sp := open(t, dir)
	before, ok, _ := sp.Stat(mqsql.Incoming, "6B1Ju3Si007919", rel)
	if !ok {
		t.Fatal("Stat found nothing")
	}
	b, _ := os.ReadFile(filepath.Join(dir, rel))
	tf := filepath.Join(dir, "tf6B1Ju3Si007919")
	if err := os.WriteFile(tf, b, 0o640); err != nil {
		t.Fatal(err)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(before.File.ModTimeNanos), unix.NsecToTimespec(before.File.ModTimeNanos)}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, tf, ts, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tf, filepath.Join(dir, rel)); err != nil {
		t.Fatal(err)
	}
	after, ok, _ := sp.Stat(mqsql.Incoming, "6B1Ju3Si007919", rel)
	if !ok || after.File == before.File || after.File.Inode == before.File.Inode {
		t.Errorf("stamp before %+v, after %+v", before.File, after.File)
	}
	if _, ok, _ := sp.Stat(mqsql.Incoming, "6B1Ju3Si007919", "tf6B1Ju3Si007919"); ok {
		t.Error("Stat lists a tf file")
	}
}

// TestLinksNotFollowed: a control file or df that is a symbolic link is never followed.
func TestLinksNotFollowed(t *testing.T) {
	dir := copyQueue(t, false)
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("V8\nT1\nSroot@outside\nRPFD:x@y\n.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const id = "6B1Jtw3U007621"
	for _, name := range []string{"qf6B1Jtw3U999999", "df" + id} {
		if name[0] == 'd' {
			os.Remove(filepath.Join(dir, name))
		}
		if err := os.Symlink(outside, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	sp := open(t, dir)
	var warnings []string
	sp.Warn = func(err error) { warnings = append(warnings, err.Error()) }
	seen := map[string]*mqsql.Message{}
	err := sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, err := sp.Read(e)
		if err != nil {
			return err
		}
		seen[m.QueueID] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen["6B1Jtw3U999999"] != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "qf6B1Jtw3U999999") {
		t.Errorf("linked qf: read %v, warnings %q", seen["6B1Jtw3U999999"] != nil, warnings)
	}
	if seen[id].Size != 0 {
		t.Errorf("linked df followed: size %d", seen[id].Size)
	}
	if _, _, err := sp.Body(id, 100); err == nil {
		t.Error("Body followed a linked df")
	}
	if _, err := sp.Read(mqsql.Entry{Queue: mqsql.Incoming, QueueID: "6B1Jtw3U999999", File: mqsql.FileInfo{Path: "qf6B1Jtw3U999999"}}); err == nil {
		t.Error("Read followed a linked qf")
	}
}

// TestContent reads headers, bodies and the rendering of sample messages.
func TestContent(t *testing.T) {
	sp := open(t, filepath.Join(samples, "mqueue"))
	v, found, err := sp.Header("6B1Ju3MW007884", "subject", 100)
	if err != nil || !found || v != "Grüße aus München – € 100" {
		t.Errorf("Subject = %q, %v, %v", v, found, err)
	}
	v, _, _ = sp.Header("6B1Ju3MW007884", "subject", 4)
	if v != "Grü" {
		t.Errorf("Subject cut to 4 bytes = %q", v)
	}
	v, found, _ = sp.Header("6B1Ju6fD007982", "Content-Type", 200)
	if !found || !strings.Contains(v, `report-type=delivery-status; boundary="6B1Ju6fD007982.1796154966/smtest.example"`) {
		t.Errorf("folded Content-Type = %q", v)
	}
	v, _, _ = sp.Header("6B1Jtw3U007621", "Return-Path", 100)
	if v != "<>" {
		t.Errorf("Return-Path with its macro dropped = %q", v)
	}
	body, more, err := sp.Body("6B1Jtw3U007621", 100)
	if err != nil || more || string(body) != "Hello Bob.\n" {
		t.Errorf("Body = %q, %v, %v", body, more, err)
	}
	body, more, _ = sp.Body("6B1Ju3lg007895", 10)
	if !more || string(body) != "0000000000" {
		t.Errorf("large Body = %q, %v", body, more)
	}
	if v, found, _ := sp.Header("6B1Ju3vJ007906", "Subject", 100); !found || v != "to be held" {
		t.Errorf("held message's Subject = %q", v)
	}
	var out bytes.Buffer
	if err := sp.Postcat(&out, "6B1JtwXL007643", mqsql.ContentParts{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*** ENVELOPE RECORDS qf6B1JtwXL007643 ***\n", "S<carol@remote.example>\n", `!\x02 86400`,
		"*** MESSAGE CONTENTS qf6B1JtwXL007643 ***\n", "Subject: via SMTP\n", "\n\nHi over SMTP.\n", "*** MESSAGE FILE END qf6B1JtwXL007643 ***\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Postcat lacks %q:\n%s", want, out.String())
		}
	}
	if _, _, err := sp.Header("6B1Jtw3U000001", "Subject", 10); !errors.Is(err, mqsql.ErrNoMessage) {
		t.Errorf("unknown ID: %v", err)
	}
}

// TestMaildropQueue: in the mail submission program's queue, queued mail is maildrop; held
// and lost files stay hold and corrupt.
func TestMaildropQueue(t *testing.T) {
	sp, err := sendmail.OpenMaildrop(copyQueue(t, false))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	queues := map[mqsql.Queue]int{}
	err = sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, err := sp.Read(e)
		if err == nil {
			queues[m.Queue]++
		}
		return err
	})
	want := map[mqsql.Queue]int{mqsql.Maildrop: 10, mqsql.Hold: 1, mqsql.Corrupt: 1}
	if err != nil || !reflect.DeepEqual(queues, want) {
		t.Errorf("queues %v, %v; want %v", queues, err, want)
	}
}

// TestLocksUnreadable: without /proc/locks every message is still read, without an error of
// its own, and the spool warns once that active mail cannot be told apart.
func TestLocksUnreadable(t *testing.T) {
	sp := open(t, copyQueue(t, false))
	sp.UseLocksFile(filepath.Join(t.TempDir(), "no-such-locks"))
	var warnings []string
	sp.Warn = func(err error) { warnings = append(warnings, err.Error()) }
	n := 0
	err := sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, err := sp.Read(e)
		if err != nil {
			return err
		}
		if m.Queue != mqsql.Corrupt && m.Error != "" {
			t.Errorf("%s: error %q", m.QueueID, m.Error)
		}
		n++
		return nil
	})
	if err != nil || n != 12 || len(warnings) != 1 || !strings.Contains(warnings[0], "show as incoming or deferred, not active") {
		t.Errorf("%d read, %v, warnings %q", n, err, warnings)
	}
}
