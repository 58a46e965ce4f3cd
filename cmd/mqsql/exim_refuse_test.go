package main

import (
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/eximtest"
)

// TestEximRequeueRefusedBeforePlan asks a real Exim queue for a requeue (SET queue =
// 'maildrop'), which Exim does not have: with --yes, without it (stdin answering y) and as a
// dry run, mqsql refuses the statement (exit 1) with an error naming Exim and what it offers
// instead, before any plan, question or per-message outcome, and exim -bp lists the same
// messages afterwards.
func TestEximRequeueRefusedBeforePlan(t *testing.T) {
	e := eximtest.Require(t, false)
	e.OnPath(t)
	for i := 0; i < 3; i++ {
		e.Submit(t, "requeue@mqsql.test", "r@remote.test")
	}
	e.Submit(t, "other@mqsql.test", "r@remote.test") // so that the WHERE restricts the plan
	before := listedBy(t, e)
	sql := "UPDATE messages SET queue = 'maildrop' WHERE sender = 'requeue@mqsql.test'"
	for _, tt := range []struct {
		name, stdin string
		flags       []string
	}{
		{"yes", "", []string{"--yes"}},
		{"asked", "y\n", nil},
		{"dry run", "", []string{"--dry-run"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--mta", "exim", "--spool", e.Spool, "--backup", t.TempDir()}, tt.flags...)
			r := runMQSQL(t, tt.stdin, append(args, sql)...)
			if r.code != exitError {
				t.Errorf("exit %d, want %d", r.code, exitError)
			}
			for _, planned := range []string{"Requeue", "[y/N]", "Done:", "failed", "exim -"} {
				if strings.Contains(r.stdout, planned) {
					t.Errorf("stdout has %q: a plan, question or outcome came before the refusal:\n%s", planned, r.stdout)
				}
			}
			for _, says := range []string{"Exim has no requeue", "queue = 'maildrop'", "'hold' (freeze, exim -Mf)", "'active' (deliver now, exim -M)"} {
				if !strings.Contains(r.stderr, says) {
					t.Errorf("stderr does not say %q:\n%s", says, r.stderr)
				}
			}
		})
	}
	if after := listedBy(t, e); !sameListing(before, after) {
		t.Errorf("exim -bp lists %v after the refusals, %v before", after, before)
	}
}

// sameListing reports whether two exim -bp listings (ID to sender) are the same.
func sameListing(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for id, s := range a {
		if v, ok := b[id]; !ok || v != s {
			return false
		}
	}
	return true
}
