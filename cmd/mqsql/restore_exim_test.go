package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
	"github.com/mqsql/mqsql/internal/eximtest"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/exim"
)

// eximListing is the query whose answer a restore must give back unchanged.
const eximListing = "SELECT queue_id, queue, queue_name, sender, size, arrival_time, recipient_count, frozen_reason, path FROM messages ORDER BY queue_id"

// eximSenderBackup backs up sender's mail on a copy of the Exim sample spool with the driver's
// own Backup (a DELETE on an offline copy is refused: exim's commands act on the installed
// Exim's spool only), removes its files as exim -Mrm does, and returns the statement folder.
func eximSenderBackup(t *testing.T, dir, backup, sender string) (string, int) {
	t.Helper()
	sp, err := exim.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	b, err := sp.NewBackup(backup, "root", "DELETE FROM messages WHERE sender = '"+sender+"'", time.Unix(1796154800, 0))
	if err != nil {
		t.Fatal(err)
	}
	var gone []string // the IDs backed up
	err = sp.Walk(t.Context(), func(e mqsql.Entry) error {
		m, err := sp.Read(e)
		if err != nil || m.Sender != sender {
			return err
		}
		gone = append(gone, m.QueueID)
		return b.Save(mqsql.Target{QueueID: m.QueueID, Queue: m.Queue, Inode: m.File.Inode, ArrivalTime: m.ArrivalTime, Path: m.File.Path, Sender: m.Sender})
	})
	if err == nil {
		err = b.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && slices.ContainsFunc(gone, func(id string) bool { return strings.HasPrefix(d.Name(), id) }) {
			err = os.Remove(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Folder(), len(gone)
}

// TestEximRestoreSample restores alice's mail (plain, frozen, large, in the named queue slowq)
// into a copy of the sample spool it was removed from: the listing is what it was, each message
// under its own ID (the frozen ones back on hold), and the folder's record and the audit log
// say so. A backup of another MTA's queue is refused.
func TestEximRestoreSample(t *testing.T) {
	dir := testspool.Copy(t, filepath.Join("..", "..", "spool", "exim", "testdata", "exim", "spool"))
	before := runMQSQL(t, "", "--mta", "exim", "--spool", dir, eximListing)
	backup := t.TempDir()
	folder, n := eximSenderBackup(t, dir, backup, "alice@mqsql.test")
	if n < 3 {
		t.Fatalf("only %d messages of alice's in the sample", n)
	}
	r := runMQSQL(t, "", "restore", "--mta", "exim", "--spool", dir, "--backup", backup, folder)
	if r.code != exitOK || !strings.Contains(r.stdout, "Restored: "+strconv.Itoa(n)+", failed: 0.") || !strings.Contains(r.stdout, "(back on hold)") {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if after := runMQSQL(t, "", "--mta", "exim", "--spool", dir, eximListing); after.stdout != before.stdout {
		t.Errorf("listing after restore:\n%s\nbefore:\n%s", after.stdout, before.stdout)
	}
	data, err := os.ReadFile(filepath.Join(folder, backupfolder.RestoredName))
	var rec struct{ Messages []mqsql.RestoredID }
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil || len(rec.Messages) != n {
		t.Fatalf("%s: %v\n%s", backupfolder.RestoredName, err, data)
	}
	for _, m := range rec.Messages {
		if m.NewQueueID != m.QueueID || !strings.HasSuffix(m.Path, m.QueueID+"-H") {
			t.Errorf("record %+v", m)
		}
	}
	audit, _ := os.ReadFile(filepath.Join(backup, mqsql.AuditName))
	lines := bytes.Split(bytes.TrimSpace(audit), []byte("\n"))
	var a mqsql.AuditRecord
	if err := json.Unmarshal(lines[len(lines)-1], &a); err != nil || len(a.Restored) != n || a.Backend != "direct" || a.Outcomes["done"] != n {
		t.Errorf("audit record %s: %v", lines[len(lines)-1], err)
	}

	sm := sendmailSample(t)
	smFolder := deleteSendmailSender(t, sm, t.TempDir(), "carol@remote.example", 1, 0)
	r = runMQSQL(t, "", "restore", "--mta", "exim", "--spool", dir, "--backup", backup, smFolder)
	if r.code != exitError || !strings.Contains(r.stderr, "was made of a queue of --mta sendmail, not of --mta exim") {
		t.Errorf("a Sendmail backup: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// fileUID is the owner of the file info describes.
func fileUID(info os.FileInfo) uint32 { return info.Sys().(*syscall.Stat_t).Uid }

// bpListing is exim -bp (with args before it) without the ages, which time changes.
func bpListing(t *testing.T, e *eximtest.Exim, args ...string) map[string]eximtest.Message {
	t.Helper()
	msgs, err := eximtest.ParseBP(e.MustRun(t, nil, append(args, "-bp")...))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]eximtest.Message{}
	for _, m := range msgs {
		m.Age = ""
		out[m.ID] = m
	}
	return out
}

// TestEximRestoreRealExim is the seed's "delete one sender's mail with a restorable copy" on a
// real Exim with a split spool: mqsql deletes the sender's mail (one message frozen, one in the
// named queue slowq) with a backup, exim -bp no longer lists it, mqsql restore puts it back, and
// exim -bp and exim -qGslowq -bp list exactly what they listed before the delete (same IDs,
// sizes, senders, recipients, frozen), every file the Exim user's with mode 0640. A queue run
// (forced with -qf, so that the host's retry time another message sets hides no attempt) then
// takes the restored mail as its own: it tries it and defers it (the loopback relay refuses
// the connection), with no spool error, and leaves the frozen one frozen. Restored once more,
// every message under a new ID (its own being taken), Exim takes each as its own too.
func TestEximRestoreRealExim(t *testing.T) {
	e := eximtest.Require(t, true)
	e.OnPath(t)
	spam := []string{e.Submit(t, "spam@bulk.test", "a@remote.test", "b@remote.test"), e.Submit(t, "spam@bulk.test", "c@remote.test"),
		e.Submit(t, "spam@bulk.test", "d@remote.test")}
	keep := e.Submit(t, "ok@fine.test", "e@remote.test")
	e.MustRun(t, nil, "-Mf", spam[1])
	e.MustRun(t, nil, "-MG", "slowq", spam[2])
	before, beforeSlow := bpListing(t, e), bpListing(t, e, "-qGslowq")
	if len(before) != 3 || len(beforeSlow) != 1 || !before[spam[1]].Frozen {
		t.Fatalf("before: %+v %+v", before, beforeSlow)
	}
	backup := t.TempDir()
	r := runMQSQL(t, "", "--mta", "exim", "--spool", e.Spool, "--backup", backup, "--yes", "DELETE FROM messages WHERE sender = 'spam@bulk.test'")
	if r.code != exitOK || !strings.Contains(r.stdout, "Done: 3, skipped: 0, failed: 0.") {
		t.Fatalf("delete: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left, slow := bpListing(t, e), bpListing(t, e, "-qGslowq"); len(left) != 1 || len(slow) != 0 || left[keep].ID != keep {
		t.Fatalf("after the delete: %+v %+v", left, slow)
	}
	folders, _ := filepath.Glob(filepath.Join(backup, "2*"))
	if len(folders) != 1 {
		t.Fatalf("backup folders %v", folders)
	}
	r = runMQSQL(t, "", "restore", "--mta", "exim", "--spool", e.Spool, "--backup", backup, folders[0])
	if r.code != exitOK || !strings.Contains(r.stdout, "Restored: 3, failed: 0.") || !strings.Contains(r.stdout, spam[1]+" -> "+spam[1]+" (back on hold)") {
		t.Fatalf("restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after, afterSlow := bpListing(t, e), bpListing(t, e, "-qGslowq"); !reflect.DeepEqual(after, before) || !reflect.DeepEqual(afterSlow, beforeSlow) {
		t.Errorf("exim -bp after restore:\n%+v\n%+v\nbefore the delete:\n%+v\n%+v", after, afterSlow, before, beforeSlow)
	}
	checkEximOwners(t, e.Spool)
	e.MustRun(t, nil, "-qf")
	e.MustRun(t, nil, "-qfGslowq")
	log := e.MainLog()
	for _, id := range []string{spam[0], spam[2]} {
		deferred := false
		for _, line := range strings.Split(log, "\n") {
			deferred = deferred || strings.Contains(line, id+" == ") && strings.Contains(line, "Connection refused")
		}
		if !deferred {
			t.Errorf("the queue run did not try and defer restored %s:\n%s", id, log)
		}
	}
	for _, bad := range []string{"spool file not found", "Spool file is locked", "format error", "Spool read error"} {
		if strings.Contains(log, bad) {
			t.Errorf("main log says %q:\n%s", bad, log)
		}
	}
	if after := bpListing(t, e); len(after) != 3 || !after[spam[1]].Frozen {
		t.Errorf("after the queue run: %+v", after)
	}
	restoreAgain(t, e, backup, folders[0], before, beforeSlow)
}

// restoreAgain restores the folder a second time: refused without --again (exit 1, exim -bp
// unchanged); with it, when every message's ID is taken, each comes back under a new ID that
// exim -bp (-qGslowq -bp) lists with the size, sender, recipients and frozen state it had, and
// a forced delivery of each one not frozen (exim -M) defers it on the refused connection: Exim
// reads its rewritten -H and -D as its own.
func restoreAgain(t *testing.T, e *eximtest.Exim, backup, folder string, before, beforeSlow map[string]eximtest.Message) {
	t.Helper()
	listed := bpListing(t, e)
	r := runMQSQL(t, "", "restore", "--mta", "exim", "--spool", e.Spool, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "already restored on ") || strings.Contains(r.stdout, " -> ") {
		t.Fatalf("second restore without --again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if now := bpListing(t, e); !reflect.DeepEqual(now, listed) {
		t.Fatalf("a refused restore changed exim -bp:\n%+v\nbefore:\n%+v", now, listed)
	}
	r = runMQSQL(t, "", "restore", "--again", "--mta", "exim", "--spool", e.Spool, "--backup", backup, folder)
	if r.code != exitOK || !strings.Contains(r.stdout, "Restored: 3, failed: 0.") || strings.Count(r.stdout, "(a new message ID: ") != 3 {
		t.Fatalf("second restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(folder, "restored.2.json"))
	var rec struct{ Messages []mqsql.RestoredID }
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil || len(rec.Messages) != 3 {
		t.Fatalf("restored.2.json: %v\n%s", err, data)
	}
	now, nowSlow := bpListing(t, e), bpListing(t, e, "-qGslowq")
	for _, m := range rec.Messages {
		was, listed, queue := before[m.QueueID], now[m.NewQueueID], []string{}
		if _, ok := beforeSlow[m.QueueID]; ok {
			was, listed, queue = beforeSlow[m.QueueID], nowSlow[m.NewQueueID], []string{"-qGslowq"}
		}
		was.ID = m.NewQueueID
		if !reflect.DeepEqual(listed, was) {
			t.Errorf("%s restored as %s: exim -bp lists %+v, want %+v", m.QueueID, m.NewQueueID, listed, was)
		}
		if was.Frozen {
			continue
		}
		e.Run(nil, append(queue, "-M", m.NewQueueID)...) // exits 1: the delivery defers
		deferred := false
		for _, line := range strings.Split(e.MainLog(), "\n") {
			deferred = deferred || strings.Contains(line, m.NewQueueID+" == ") && strings.Contains(line, "Connection refused")
		}
		if !deferred {
			t.Errorf("exim -M %s did not try and defer it:\n%s", m.NewQueueID, e.MainLog())
		}
	}
	for _, bad := range []string{"spool file not found", "format error", "Spool read error"} {
		if strings.Contains(e.MainLog(), bad) {
			t.Errorf("main log says %q:\n%s", bad, e.MainLog())
		}
	}
}

// checkEximOwners checks that every file and directory in the spool's input and msglog
// directories belongs to the Exim user that owns the spool, files with mode 0640.
func checkEximOwners(t *testing.T, spool string) {
	t.Helper()
	var root os.FileInfo
	root, err := os.Stat(spool)
	if err != nil {
		t.Fatal(err)
	}
	uid := fileUID(root)
	err = filepath.WalkDir(spool, func(p string, d fs.DirEntry, err error) error {
		if err != nil || strings.Contains(p, "/log") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if fileUID(info) != uid || !d.IsDir() && info.Mode().Perm() != 0o640 || strings.Contains(d.Name(), ".mqsql-restore") {
			t.Errorf("%s: uid %d mode %v, want uid %d", p, fileUID(info), info.Mode(), uid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
