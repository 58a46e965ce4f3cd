package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/write"
)

// parseReport reads the one JSON object a write prints with --format json or jsonl.
func parseReport(t *testing.T, stdout string) write.JSONReport {
	t.Helper()
	var rep write.JSONReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("not one JSON report: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value:\n%s", stdout)
	}
	return rep
}

// TestWriteJSONReport deletes with --format json (and jsonl) on a spool copy: the object
// printed lists every planned message with its recipients, each outcome, the backup folder
// and the audit record's ID, and all of it matches what happened to the spool.
func TestWriteJSONReport(t *testing.T) {
	for _, format := range []string{"json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			dir := testspool.Copy(t, testspool.Dir(t, "spool"))
			backup := t.TempDir()
			r := runMQSQL(t, "", "--spool", dir, "--backup", backup, "--format", format, "--yes",
				"DELETE FROM messages WHERE sender = 'brief-long@x.test'")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if format == "jsonl" && strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("jsonl report is not one line:\n%s", r.stdout)
			}
			rep := parseReport(t, r.stdout)
			if !rep.Executed || rep.DryRun || len(rep.Plan) != 1 || rep.Plan[0].Op != mqsql.OpDelete || rep.Plan[0].Count != 2 {
				t.Fatalf("report: %+v", rep)
			}
			var ids []string
			for _, m := range rep.Plan[0].Messages {
				ids = append(ids, m.QueueID)
				if m.Sender != "brief-long@x.test" || m.Queue != mqsql.Deferred || m.ArrivalTime == 0 || !slices.Equal(m.Recipients, []string{"long@remote.test"}) {
					t.Errorf("planned message %+v", m)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, []string{"4jc7Q05hx6zdZKt", "4jc7R74XMszdZL1"}) {
				t.Errorf("planned %v", ids)
			}
			for _, o := range rep.Outcomes {
				if o.Result != mqsql.Applied || !slices.Contains(ids, o.QueueID) {
					t.Errorf("outcome %+v", o)
				}
			}
			if len(rep.Outcomes) != 2 || rep.Counts["done"] != 2 || exists(dir, "deferred/C/4jc7Q05hx6zdZKt") || exists(dir, "deferred/9/4jc7R74XMszdZL1") {
				t.Errorf("outcomes %+v counts %v; the files are gone: %v", rep.Outcomes, rep.Counts, !exists(dir, "deferred/C/4jc7Q05hx6zdZKt"))
			}
			folder, m := onlyBackup(t, backup)
			if rep.Backup != folder || len(m.Messages) != 2 {
				t.Errorf("backup %q, want %q holding 2 messages (%d)", rep.Backup, folder, len(m.Messages))
			}
			if rec := lastAudit(t, backup); rep.AuditID == "" || rec.ID != rep.AuditID || rec.Backup != folder {
				t.Errorf("audit ID %q, the audit log's record %+v", rep.AuditID, rec)
			}
		})
	}
}

// TestWriteJSONDryRun checks that a JSON dry run is the same object, not carried out, with
// the spool untouched.
func TestWriteJSONDryRun(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	before := treeHash(t, dir)
	r := runMQSQL(t, "", "--spool", dir, "--backup", t.TempDir(), "--format", "json", "--dry-run",
		"UPDATE messages SET queue = 'hold' WHERE sender LIKE 'brief%'")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rep := parseReport(t, r.stdout)
	if rep.Executed || !rep.DryRun || len(rep.Plan) != 1 || rep.Plan[0].Count != len(rep.Plan[0].Messages) || rep.Plan[0].Count < 10 || rep.Outcomes != nil || rep.AuditID != "" {
		t.Errorf("dry run report: %+v", rep)
	}
	if treeHash(t, dir) != before {
		t.Error("the spool changed")
	}
}

// TestWriteReturningRefused: RETURNING used to be silently ignored; it is refused, and
// nothing is done.
func TestWriteReturningRefused(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	before := treeHash(t, dir)
	r := runMQSQL(t, "", "--spool", dir, "--backup", t.TempDir(), "--yes",
		"DELETE FROM messages WHERE sender = 'brief-long@x.test' RETURNING queue_id")
	if r.code != 1 || !strings.Contains(r.stderr, "RETURNING is not supported") || strings.Contains(r.stdout, "Done:") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if treeHash(t, dir) != before {
		t.Error("the spool changed")
	}
}

// TestDryRunListsEveryRow: the confirmation shows a sample of 10 with the age by mqsql's
// clock; --dry-run lists every planned message.
func TestDryRunListsEveryRow(t *testing.T) {
	clock = mqsql.FixedClock(time.Unix(1795865448+3*86400+3600, 0))
	defer func() { clock = nil }()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	const sql = "UPDATE messages SET queue = 'hold' WHERE sender LIKE 'brief%'"
	r := runMQSQL(t, "", "--spool", dir, "--dry-run", sql)
	asked := runMQSQL(t, "", "--spool", dir, sql)
	rows := func(out string) int { return strings.Count(out, "\n  hold     ") }
	if r.code != 0 || rows(r.stdout) != 11 || strings.Contains(r.stdout, "more") {
		t.Errorf("--dry-run lists %d rows, want all 11:\n%s", rows(r.stdout), r.stdout)
	}
	if rows(asked.stdout) != 10 || !strings.Contains(asked.stdout, "... and 1 more") {
		t.Errorf("the question's sample has %d rows, want 10 and a count of the rest:\n%s", rows(asked.stdout), asked.stdout)
	}
	if !strings.Contains(r.stdout, "age") || !strings.Contains(r.stdout, " deferred  3d1h    brief-long@x.test") {
		t.Errorf("no age column by the clock:\n%s", r.stdout)
	}
}
