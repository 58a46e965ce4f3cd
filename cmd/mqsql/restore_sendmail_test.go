package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/internal/testspool"
)

// sendmailListing is the query whose answer a restore must give back unchanged.
const sendmailListing = "SELECT queue_id, queue, sender, size, arrival_time, recipient_count, hold_reason, path FROM messages ORDER BY queue_id"

// sendmailSample is a copy of the real Sendmail sample queue (testdata/sendmail/README.md).
func sendmailSample(t *testing.T) string {
	t.Helper()
	return testspool.Copy(t, filepath.Join("..", "..", "testdata", "sendmail", "mqueue"))
}

// deleteSendmailSender deletes sender's mail from the Sendmail queue dir with a backup in
// backup, and returns the statement folder.
func deleteSendmailSender(t *testing.T, dir, backup, sender string, n, skipped int) string {
	t.Helper()
	r := runMQSQL(t, "", "--mta", "sendmail", "--spool", dir, "--backup", backup, "--yes", "DELETE FROM messages WHERE sender = '"+sender+"'")
	if want := "Done: " + strconv.Itoa(n) + ", skipped: " + strconv.Itoa(skipped) + ", failed: 0."; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("delete: exit %d, want %q\n%s\n%s", r.code, want, r.stdout, r.stderr)
	}
	folders, _ := filepath.Glob(filepath.Join(backup, "2*"))
	if len(folders) != 1 {
		t.Fatalf("backup folders %v, want one", folders)
	}
	return folders[0]
}

// TestSendmailDeleteRestore deletes one sender's mail from a copy of the sample queue (queued,
// deferred, a 1 MB message and a quarantined hf among it; the write path leaves the lost Qf
// alone) and restores it: the
// listing is what it was, every file byte for byte (held mail still an hf with its reason),
// and the folder's record and the audit log say which message came back under which ID.
// Restoring the same folder again gives each message a new queue ID, its own being taken.
func TestSendmailDeleteRestore(t *testing.T) {
	dir := sendmailSample(t)
	orig := readFiles(t, dir)
	before := runMQSQL(t, "", "--mta", "sendmail", "--spool", dir, sendmailListing)
	backup := t.TempDir()
	folder := deleteSendmailSender(t, dir, backup, "alice@sender.example", 7, 1)
	if left := len(readFiles(t, dir)); left != 10 {
		t.Fatalf("%d files left after the delete, want 10", left)
	}
	r := runMQSQL(t, "", "restore", "--mta", "sendmail", "--spool", dir, "--backup", backup, folder)
	if r.code != 0 || !strings.Contains(r.stdout, "Restored: 7, failed: 0.") || !strings.Contains(r.stdout, "6B1Ju3vJ007906 -> 6B1Ju3vJ007906 (back on hold)\n") ||
		!strings.Contains(r.stdout, "6B1Jtw3U007621 -> 6B1Jtw3U007621\n") {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := runMQSQL(t, "", "--mta", "sendmail", "--spool", dir, sendmailListing)
	if after.stdout != before.stdout {
		t.Errorf("listing after restore:\n%s\nbefore the delete:\n%s", after.stdout, before.stdout)
	}
	now := readFiles(t, dir)
	for name, data := range orig {
		if !bytes.Equal(now[name], data) {
			t.Errorf("%s: restored %d bytes, differs from the original's %d", name, len(now[name]), len(data))
		}
	}
	if len(now) != len(orig) {
		t.Errorf("%d files after restore, %d before", len(now), len(orig))
	}
	checkSendmailRecords(t, backup, folder, backupfolder.RestoredName, func(id mqsql.RestoredID) bool { return id.NewQueueID == id.QueueID })

	refused := runMQSQL(t, "", "restore", "--mta", "sendmail", "--spool", dir, "--backup", backup, folder)
	if refused.code != exitError || !strings.Contains(refused.stderr, "already restored on ") || len(readFiles(t, dir)) != len(orig) {
		t.Fatalf("second restore without --again: exit %d\n%s\n%s", refused.code, refused.stdout, refused.stderr)
	}
	again := runMQSQL(t, "", "restore", "--again", "--mta", "sendmail", "--spool", dir, "--backup", backup, folder)
	if again.code != 0 || strings.Count(again.stdout, "(a new queue ID: ") != 7 {
		t.Fatalf("second restore: exit %d\n%s\n%s", again.code, again.stdout, again.stderr)
	}
	checkSendmailRecords(t, backup, folder, "restored.2.json", func(id mqsql.RestoredID) bool { return id.NewQueueID != id.QueueID })
	twice := runMQSQL(t, "", "--mta", "sendmail", "--spool", dir, "SELECT count(*), count(DISTINCT queue_id) FROM messages WHERE sender = 'alice@sender.example'")
	if twice.stdout != "count(*),count(DISTINCT queue_id)\n15,15\n" {
		t.Errorf("after two restores: %q %s", twice.stdout, twice.stderr)
	}
}

// checkSendmailRecords checks the folder's record name and the last audit record: 7 messages,
// each back at a path of the queue, with ok true of its IDs.
func checkSendmailRecords(t *testing.T, backup, folder, name string, ok func(mqsql.RestoredID) bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(folder, name))
	var rec struct{ Messages []mqsql.RestoredID }
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil || len(rec.Messages) != 7 {
		t.Fatalf("%s: %v\n%s", name, err, data)
	}
	held := 0
	for _, m := range rec.Messages {
		if !ok(m) || m.Path == "" || !strings.HasSuffix(m.Path, m.NewQueueID) || m.Maildrop != "" {
			t.Errorf("%s: %+v", name, m)
		}
		if m.Held {
			held++
		}
	}
	if held != 1 {
		t.Errorf("%s: %d held again, want 1 (the hf)", name, held)
	}
	audit, _ := os.ReadFile(filepath.Join(backup, mqsql.AuditName))
	lines := bytes.Split(bytes.TrimSpace(audit), []byte("\n"))
	var a mqsql.AuditRecord
	if err := json.Unmarshal(lines[len(lines)-1], &a); err != nil || len(a.Restored) != 7 || a.Backend != "direct" || a.Outcomes["done"] != 7 {
		t.Errorf("audit record %s: %v", lines[len(lines)-1], err)
	}
}

// readFiles returns every file of a flat queue directory by name.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

// TestSendmailRestoreRefuses: a backup said to be of another MTA's queue, and one whose df
// does not match its checksum, are refused, and the queue is left as it was; a
// driver without restore says so.
func TestSendmailRestoreRefuses(t *testing.T) {
	dir := sendmailSample(t)
	backup := t.TempDir()
	folder := deleteSendmailSender(t, dir, backup, "carol@remote.example", 1, 0)
	left := readFiles(t, dir)
	var m map[string]any
	data, _ := os.ReadFile(filepath.Join(folder, backupfolder.ManifestName))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["mta"] = "exim"
	js, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(folder, backupfolder.ManifestName), js, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runMQSQL(t, "", "restore", "--mta", "sendmail", "--spool", dir, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "was made of a queue of --mta exim, not of --mta sendmail") {
		t.Errorf("exim manifest: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	m["mta"] = "sendmail"
	msgs := m["messages"].([]any)
	msgs[0].(map[string]any)["data_sha256"] = strings.Repeat("0", 64)
	js, _ = json.Marshal(m)
	if err := os.WriteFile(filepath.Join(folder, backupfolder.ManifestName), js, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runMQSQL(t, "", "restore", "--mta", "sendmail", "--spool", dir, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "saved copy of df6B1JtwXL007643 does not match its checksum") || !strings.Contains(r.stdout, "Restored: 0, failed: 1.") {
		t.Errorf("altered df: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	exim := filepath.Join("..", "..", "spool", "exim", "testdata", "exim", "spool")
	r = runMQSQL(t, "", "restore", "--mta", "exim", "--spool", exim, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "was made of a queue of --mta sendmail, not of --mta exim") {
		t.Errorf("exim: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	now := readFiles(t, dir)
	if len(now) != len(left) {
		t.Errorf("a refused restore changed the queue: %d files, %d before", len(now), len(left))
	}
}

// TestSendmailRestoreRealSendmail is the seed's "delete one sender's mail with a restorable
// copy" on a real Sendmail queue: mqsql deletes the sender's mail (one message quarantined)
// with a backup, mailq no longer lists it, mqsql restore puts it back, and mailq (-bp, -bp -qQ)
// lists exactly what it listed before the delete: same IDs, sizes, times, senders, recipients
// and quarantine reason. A queue run then takes the restored mail as its own (it defers it,
// the relay port being closed) instead of setting it aside as lost.
func TestSendmailRestoreRealSendmail(t *testing.T) {
	sm := sendmailtest.Require(t)
	ctx := context.Background()
	for i, from := range []string{"spam@bulk.example", "spam@bulk.example", "ok@fine.example", "spam@bulk.example"} {
		msg := []byte("Subject: restore " + strconv.Itoa(i) + "\n\n" + strings.Repeat("line\n", i*100+1))
		if err := sm.Submit(ctx, from, []string{"a@dest.example", "b@dest.example"}, msg); err != nil {
			t.Fatal(err)
		}
	}
	listed, err := sm.MailqAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var heldID string
	for _, l := range listed {
		if l.Sender == "spam@bulk.example" {
			heldID = l.ID
		}
	}
	if out, err := sm.RunQueue(ctx, "-Qnot wanted", "-qI"+heldID); err != nil || !strings.Contains(out, "Quarantined") {
		t.Fatalf("quarantine %s: %v\n%s", heldID, err, out)
	}
	before, err := sm.MailqAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holdReason(t, sm, before)
	backup := t.TempDir()
	folder := deleteSendmailSender(t, sm.Queue, backup, "spam@bulk.example", 3, 0)
	if gone, _ := sm.MailqAll(ctx); len(gone) != 1 || gone[0].Sender != "ok@fine.example" {
		t.Fatalf("mailq after the delete: %+v", gone)
	}
	r := runMQSQL(t, "", "restore", "--mta", "sendmail", "--spool", sm.Queue, "--backup", backup, folder)
	if r.code != 0 || !strings.Contains(r.stdout, "Restored: 3, failed: 0.") || !strings.Contains(r.stdout, heldID+" -> "+heldID+" (back on hold)") {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after, err := sm.MailqAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byID(after), byID(before)) {
		t.Errorf("mailq after restore:\n%+v\nbefore the delete:\n%+v", after, before)
	}
	if held := byID(after)[heldID]; held.Quarantine != "not wanted" {
		t.Errorf("restored hf: %+v", held)
	}
	holdReason(t, sm, after)
	var restored mqsql.RestoredID
	data, _ := os.ReadFile(filepath.Join(folder, backupfolder.RestoredName))
	var rec struct{ Messages []mqsql.RestoredID }
	if err := json.Unmarshal(data, &rec); err != nil || len(rec.Messages) != 3 {
		t.Fatalf("%s: %v", data, err)
	}
	for _, m := range rec.Messages {
		if m.QueueID != heldID {
			restored = m
		}
	}
	out, err := sm.RunQueue(ctx, "-qI"+restored.NewQueueID)
	if err != nil || !strings.Contains(out, "Connection refused") {
		t.Errorf("queue run of restored %s: %v\n%s", restored.NewQueueID, err, out)
	}
	if lost, _ := sm.Mailq(ctx, "-qL"); len(lost) != 0 {
		t.Errorf("Sendmail set restored mail aside as lost: %+v", lost)
	}
	restoreTwiceRefused(t, sm, backup, folder)
}

// restoreTwiceRefused restores the folder a second time without --again: refused (exit 1,
// when and by whom), and mailq lists the same messages as before.
func restoreTwiceRefused(t *testing.T, sm *sendmailtest.Sendmail, backup, folder string) {
	t.Helper()
	ctx := context.Background()
	before, err := sm.MailqAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := runMQSQL(t, "", "restore", "--mta", "sendmail", "--spool", sm.Queue, "--backup", backup, folder)
	if r.code != exitError || !strings.Contains(r.stderr, "already restored on ") || !strings.Contains(r.stderr, " by ") {
		t.Errorf("second restore: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after, err := sm.MailqAll(ctx)
	if err != nil || len(after) != len(before) || !reflect.DeepEqual(byID(after), byID(before)) {
		t.Errorf("mailq after a refused restore (%v):\n%+v\nbefore:\n%+v", err, after, before)
	}
}

// byID indexes a mailq listing by queue ID, without the priority, which a queue run changes.
func byID(list []sendmailtest.Listed) map[string]sendmailtest.Listed {
	out := map[string]sendmailtest.Listed{}
	for _, l := range list {
		out[l.ID] = l
	}
	return out
}

// holdReason checks that hold_reason is, for every message, the quarantine reason mailq -qQ
// shows (listed: MailqAll), NULL for mail that is not quarantined.
func holdReason(t *testing.T, sm *sendmailtest.Sendmail, listed []sendmailtest.Listed) {
	t.Helper()
	r := runMQSQL(t, "", "--mta", "sendmail", "--spool", sm.Queue, "--format", "json", "SELECT queue_id, hold_reason FROM messages")
	var rows []struct {
		QueueID    string  `json:"queue_id"`
		HoldReason *string `json:"hold_reason"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != len(listed) {
		t.Fatalf("hold_reason: %v, %d rows for %d listed\n%s%s", err, len(rows), len(listed), r.stdout, r.stderr)
	}
	want := byID(listed)
	quarantined := 0
	for _, row := range rows {
		q := want[row.QueueID].Quarantine
		if q != "" {
			quarantined++
		}
		if (q == "") != (row.HoldReason == nil) || row.HoldReason != nil && *row.HoldReason != q {
			got := "NULL"
			if row.HoldReason != nil {
				got = strconv.Quote(*row.HoldReason)
			}
			t.Errorf("%s: hold_reason %s, mailq -qQ shows QUARANTINE: %q", row.QueueID, got, q)
		}
	}
	if quarantined != 1 {
		t.Errorf("%d quarantined messages listed, want 1", quarantined)
	}
}
