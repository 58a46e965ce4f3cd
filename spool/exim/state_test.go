package exim_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/exim"
	"golang.org/x/sys/unix"
)

// copyMessage copies message id's -H, -D and msglog from the sample spool into a fresh spool
// and returns that spool's directory.
func copyMessage(t *testing.T, from, id string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"input", "msglog"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	for src, dst := range map[string]string{
		"input/" + id + "-H": "input/" + id + "-H",
		"input/" + id + "-D": "input/" + id + "-D",
		"msglog/" + id:       "msglog/" + id,
	} {
		copyFile(t, filepath.Join(from, src), filepath.Join(dir, dst))
	}
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// only walks a one-message spool and reads its message.
func only(t *testing.T, dir string) (mqsql.Entry, *mqsql.Message) {
	t.Helper()
	sp := openSpool(t, dir)
	var entries []mqsql.Entry
	if err := sp.Walk(context.Background(), func(e mqsql.Entry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("walk listed %d messages, want 1", len(entries))
	}
	m, err := sp.Read(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	return entries[0], m
}

const plainID = "1xYTuW-00009O-26"

// TestQueueStates checks the queue column for each state §11.3 maps, on changed copies of a
// real message: damaged or missing files are corrupt with an error (but a damaged header
// section, which Exim lists, keeps its state), a -J's addresses are done,
// a -D lock held elsewhere is active.
func TestQueueStates(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string)
		queue   mqsql.Queue
		errText string
	}{
		{"never tried", func(*testing.T, string) {}, mqsql.Incoming, ""},
		{"tried", func(t *testing.T, dir string) {
			editH(t, dir, "-deliver_firsttime\n", "")
		}, mqsql.Deferred, ""},
		{"frozen", func(t *testing.T, dir string) {
			editH(t, dir, "-deliver_firsttime\n", "-deliver_firsttime\n-frozen 1796154800\n")
		}, mqsql.Hold, ""},
		{"frozen aside", func(t *testing.T, dir string) {
			mustRename(t, filepath.Join(dir, "input"), filepath.Join(dir, "Finput"))
		}, mqsql.Hold, ""},
		{"no -D", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "input", plainID+"-D"))
		}, mqsql.Corrupt, "does not exist"},
		{"truncated -H", func(t *testing.T, dir string) {
			// The envelope is whole: exim -bp lists the message with its spool format error.
			p := filepath.Join(dir, "input", plainID+"-H")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)-20], 0o640)
		}, mqsql.Incoming, "spool format error in the header section"},
		{"-H of another message", func(t *testing.T, dir string) {
			editH(t, dir, plainID+"-H\n", "1xYTuW-00009V-2B-H\n")
		}, mqsql.Corrupt, "spool format error"},
		{"in a split directory not its own", func(t *testing.T, dir string) {
			// exim -bp lists it (checked with Exim 4.96), so the walk does too.
			os.Mkdir(filepath.Join(dir, "input", "Q"), 0o750)
			for _, s := range []string{"-H", "-D"} {
				mustRename(t, filepath.Join(dir, "input", plainID+s), filepath.Join(dir, "input", "Q", plainID+s))
			}
		}, mqsql.Incoming, ""},
		{"locked -D", func(t *testing.T, dir string) {
			lockData(t, filepath.Join(dir, "input", plainID+"-D"))
		}, mqsql.Active, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyMessage(t, "testdata/exim/spool", plainID)
			tt.change(t, dir)
			e, m := only(t, dir)
			if e.Queue != tt.queue || m.Queue != tt.queue {
				t.Errorf("queue: walk %s, read %s, want %s", e.Queue, m.Queue, tt.queue)
			}
			if !strings.Contains(m.Error, tt.errText) || (tt.errText == "") != (m.Error == "") {
				t.Errorf("error %q, want one containing %q", m.Error, tt.errText)
			}
		})
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// editH rewrites the copy's -H of the plain sample (see rewriteH).
func editH(t *testing.T, dir, old, new string) {
	t.Helper()
	rewriteH(t, dir, plainID, old, new)
}

// lockData takes Exim's lock on the -D the way a delivery does, but as an open file
// description lock: F_GETLK reports it to this process too, as it would report a delivery
// process's lock. Closing the file (at the latest when the test ends) releases it.
func lockData(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: int64(len(plainID) + 3)}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestJournalMarksDone reads the copy taken during a delivery: the -H's tree is still empty,
// and the -J's address is done.
func TestJournalMarksDone(t *testing.T) {
	const id = "1xYTuY-0000Cg-18"
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "input"), 0o750)
	os.MkdirAll(filepath.Join(dir, "msglog"), 0o750)
	for _, s := range []string{"-H", "-D", "-J"} {
		copyFile(t, "testdata/exim/journal-snapshot/"+id+s, filepath.Join(dir, "input", id+s))
	}
	copyFile(t, "testdata/exim/journal-snapshot/msglog-"+id, filepath.Join(dir, "msglog", id))
	_, m := only(t, dir)
	var got []string
	for _, r := range m.Recipients {
		got = append(got, r.Address+" "+string(r.Status))
	}
	if want := "j1@local.test done,s@slow.test pending"; strings.Join(got, ",") != want {
		t.Errorf("recipients %v, want %s", got, want)
	}
}

// TestStampChanges checks that what the index compares changes when Exim changes a message:
// the -H's inode and mtime when it is replaced by rename, the mode while a delivery holds the
// lock, the msglog's stamp when a line is appended.
func TestStampChanges(t *testing.T) {
	dir := copyMessage(t, "testdata/exim/spool", plainID)
	sp := openSpool(t, dir)
	rel := "input/" + plainID + "-H"
	before, ok, _ := sp.Stat(mqsql.Incoming, plainID, rel)
	logBefore, logOK := sp.StatLog(plainID)
	if !ok || !logOK {
		t.Fatalf("Stat %v, StatLog %v", ok, logOK)
	}
	editH(t, dir, "-deliver_firsttime\n", "")
	after, ok, _ := sp.Stat(mqsql.Incoming, plainID, rel)
	if !ok || after.File.Inode == before.File.Inode || after.Queue != mqsql.Deferred {
		t.Errorf("after rename: ok %v inode %d (was %d) queue %s", ok, after.File.Inode, before.File.Inode, after.Queue)
	}
	lockData(t, filepath.Join(dir, "input", plainID+"-D"))
	locked, ok, _ := sp.Stat(mqsql.Incoming, plainID, rel)
	if !ok || locked.Queue != mqsql.Active || locked.File == after.File {
		t.Errorf("while locked: ok %v queue %s, file %+v (unlocked %+v)", ok, locked.Queue, locked.File, after.File)
	}
	f, err := os.OpenFile(filepath.Join(dir, "msglog", plainID), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("2026-12-01 19:53:08.908 bob@remote.test R=closed T=t_closed defer (111): Connection refused DT=0.000s\n")
	f.Close()
	logAfter, _ := sp.StatLog(plainID)
	if logAfter == logBefore {
		t.Errorf("msglog stamp unchanged after an append: %v", logAfter)
	}
	stamps, err := sp.DelayLogStamps(context.Background())
	if err != nil || stamps[plainID] != logAfter {
		t.Errorf("DelayLogStamps %v (%v), want %s: %v", stamps, err, plainID, logAfter)
	}
	m, err := sp.Read(after)
	if err != nil || m.Recipients[0].DelayReason != "Connection refused" || m.File.Log.Size != logAfter.Size {
		t.Errorf("read after append: %v %+v", err, m)
	}
}

// TestLinksNotFollowed plants symbolic links where a -H and a split directory should be: the
// walk lists neither, and reading by a path through them fails.
func TestLinksNotFollowed(t *testing.T) {
	dir := copyMessage(t, "testdata/exim/spool", plainID)
	outside := t.TempDir()
	mustRename(t, filepath.Join(dir, "input", plainID+"-H"), filepath.Join(outside, plainID+"-H"))
	if err := os.Symlink(filepath.Join(outside, plainID+"-H"), filepath.Join(dir, "input", plainID+"-H")); err != nil {
		t.Fatal(err)
	}
	// A link that stays inside the spool is refused too: Exim never makes one.
	os.Mkdir(filepath.Join(dir, "aside"), 0o750)
	copyFile(t, filepath.Join(outside, plainID+"-H"), filepath.Join(dir, "aside", plainID+"-H"))
	os.Symlink("../aside", filepath.Join(dir, "input", "g"))
	sp, err := exim.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var warnings []string
	sp.Warn = func(err error) { warnings = append(warnings, err.Error()) }
	n := 0
	sp.Walk(context.Background(), func(mqsql.Entry) error { n++; return nil })
	if n != 0 || len(warnings) != 2 {
		t.Errorf("walk listed %d messages, warned %q", n, warnings)
	}
	_, err = sp.Read(mqsql.Entry{QueueID: plainID, File: mqsql.FileInfo{Path: "input/g/" + plainID + "-H"}})
	if err == nil {
		t.Errorf("read through a linked directory: %v", err)
	}
	if _, ok, _ := sp.Stat(mqsql.Incoming, plainID, "input/"+plainID+"-H"); ok {
		t.Errorf("Stat accepted a link")
	}
}

func writeScript(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestNewIDFormat reads a message with an Exim 4.97+ ID (23 characters, a 26-byte -D ID
// line), made from a 4.96 sample by renaming it: no 4.97 binary runs here. Its size is the
// sample's, since the longer ID line is not part of it.
func TestNewIDFormat(t *testing.T) {
	const newID = "1xYTsL-0000000078y-0EQ9"
	dir := copyMessage(t, "testdata/exim/spool", plainID)
	for _, s := range []string{"-H", "-D"} {
		p := filepath.Join(dir, "input", plainID+s)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.Replace(data, []byte(plainID+s+"\n"), []byte(newID+s+"\n"), 1)
		os.WriteFile(filepath.Join(dir, "input", newID+s), data, 0o640)
		os.Remove(p)
	}
	mustRename(t, filepath.Join(dir, "msglog", plainID), filepath.Join(dir, "msglog", newID))
	_, m := only(t, dir)
	if m.QueueID != newID || m.Size != 344 || m.Error != "" || m.Queue != mqsql.Incoming {
		t.Errorf("got %s size %d queue %s error %q, want %s 344 incoming", m.QueueID, m.Size, m.Queue, m.Error, newID)
	}
}
