package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/eximtest"
)

// listedBy returns the IDs exim -bp (with args before it) lists, each with its sender.
func listedBy(t *testing.T, e *eximtest.Exim, args ...string) map[string]string {
	t.Helper()
	msgs, err := eximtest.ParseBP(e.MustRun(t, nil, append(args, "-bp")...))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		out[m.ID] = m.Sender
	}
	return out
}

// TestEximExpireAndDeliverNow runs the one-statement expire (SET forced_expire = 1, queue =
// 'active') on a real Exim through mqsql's command line: on Exim it is exim -Mg alone, which
// returns the mail to its sender at once and removes it, so the plan has one operation per
// message, the report counts one, and no exim -M follows on mail that is gone. Checked with
// exim -bp and -qGslowq -bp: the messages are gone and a bounce to each sender is queued;
// the audit record and the dry run's plan name the expire only.
func TestEximExpireAndDeliverNow(t *testing.T) {
	e := eximtest.Require(t, false)
	e.OnPath(t)
	queued := e.Submit(t, "queued@mqsql.test", "r1@remote.test")
	frozen := e.Submit(t, "frozen@mqsql.test", "r2@remote.test")
	e.MustRun(t, nil, "-Mf", frozen)
	named := e.Submit(t, "named@mqsql.test", "r3@remote.test")
	e.MustRun(t, nil, "-MG", "slowq", named)
	other := e.Submit(t, "other@mqsql.test", "r4@remote.test")
	backup := t.TempDir()
	sql := "UPDATE messages SET forced_expire = 1, queue = 'active' WHERE queue_id IN ('" + queued + "', '" + frozen + "', '" + named + "')"

	dry := runMQSQL(t, "", "--mta", "exim", "--spool", e.Spool, "--backup", backup, "--dry-run", sql)
	if dry.code != exitOK || strings.Contains(dry.stdout, "-M QUEUE_ID") || !strings.Contains(dry.stdout, "-Mg QUEUE_ID") || strings.Contains(dry.stdout, "Flush") {
		t.Errorf("dry run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	r := runMQSQL(t, "", "--mta", "exim", "--spool", e.Spool, "--backup", backup, "--yes", sql)
	if r.code != exitOK || !strings.Contains(r.stdout, "Done: 3, skipped: 0, failed: 0.") {
		t.Fatalf("exit %d\n%s%s\nmain log:\n%s", r.code, r.stdout, r.stderr, e.MainLog())
	}
	def, slowq := listedBy(t, e), listedBy(t, e, "-qGslowq")
	for _, id := range []string{queued, frozen, named} {
		if _, ok := def[id]; ok {
			t.Errorf("%s is still in the queue", id)
		}
		if _, ok := slowq[id]; ok {
			t.Errorf("%s is still in slowq", id)
		}
	}
	if _, ok := def[other]; !ok {
		t.Errorf("%s, not matched, is gone", other)
	}
	bounces := 0
	for _, queue := range []map[string]string{def, slowq} { // Exim queues the bounce of mail in slowq there
		for _, sender := range queue {
			if sender == "" {
				bounces++
			}
		}
	}
	if bounces != 3 {
		t.Errorf("%d bounces queued, want one for each of the 3 messages: %v %v", bounces, def, slowq)
	}
	log := e.MainLog()
	for _, id := range []string{queued, frozen, named} {
		if strings.Contains(log, "-M "+id) {
			t.Errorf("exim -M ran on %s after exim -Mg", id)
		}
	}
	audit, err := os.ReadFile(filepath.Join(backup, "audit.log"))
	if err != nil || strings.Contains(string(audit), `"flush"`) || !strings.Contains(string(audit), `"expire"`) {
		t.Errorf("audit log (%v): %s", err, audit)
	}
}
