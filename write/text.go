package write

import (
	"fmt"
	"io"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/output"
)

// planSampleSize is how many messages a plan lists by name before asking.
const planSampleSize = 10

// maxListed bounds how many skipped or failed messages a report names one by one.
const maxListed = 20

// PrintPlan shows the plan for people: what happens to how many messages, the exact
// commands, the messages (every one when all is set, as --dry-run shows them, otherwise a
// sample of planSampleSize for the confirmation question), and what will be left alone.
func (w *Writer) PrintPlan(out io.Writer, p *Plan, all bool) {
	for _, op := range p.ops() {
		fmt.Fprintf(out, "Plan: %s.\n", p.opSummary(op))
	}
	if p.All {
		fmt.Fprintf(out, "This is every message the statement can act on: all %s %s.\n", thousands(p.Runnable()), plural(p.Runnable(), "message", "messages"))
	}
	for _, g := range p.Groups {
		fmt.Fprintf(out, "  %s   # %s %s\n", w.Executor.Command(g.Op, g.Queue), thousands(len(g.Targets)), plural(len(g.Targets), "message", "messages"))
	}
	if p.hasDeletes() {
		if w.NoBackup {
			fmt.Fprintln(out, "No backup (--no-backup): deleted messages cannot be restored.")
		} else {
			fmt.Fprintf(out, "Deleted messages are first copied to a new folder in %s.\n", w.BackupBase)
		}
	}
	limit := planSampleSize
	if all {
		limit = p.Runnable()
	}
	w.printMessages(out, p, limit)
	if n := len(p.Actions) - p.Runnable(); n > 0 {
		fmt.Fprintf(out, "Left alone: %s %s:\n", thousands(n), plural(n, "message", "messages"))
		listOutcomes(out, p.skipped(), mqsql.Skipped)
	}
}

// printMessages lists the first limit planned messages with their age by the writer's clock.
func (w *Writer) printMessages(out io.Writer, p *Plan, limit int) {
	now := w.Clock.Now().Unix()
	n := 0
	for _, g := range p.Groups {
		for _, t := range g.Targets {
			if n == 0 {
				fmt.Fprintln(out, "Messages:")
				fmt.Fprintf(out, "  %-8s %-17s %-9s %-7s %s\n", "op", "queue_id", "queue", "age", "sender  subject")
			}
			if n++; n > limit {
				break
			}
			fmt.Fprintf(out, "  %-8s %-17s %-9s %-7s %s  %q\n", g.Op, t.QueueID, t.Queue, shortAge(now-t.ArrivalTime), output.Escape(shownSender(t.Sender)), t.Subject)
		}
	}
	if total := p.Runnable(); total > limit {
		fmt.Fprintf(out, "  ... and %s more (--dry-run lists them all)\n", thousands(total-limit))
	}
}

// shortAge is an age as the ago() function says it (45s, 1m30s, 3d4h); a time still to come,
// which a clock set back can give, shows as 0s.
func shortAge(sec int64) string {
	return mqsql.CompactDuration(max(sec, 0))
}

// PrintReport prints how the write ended for people.
func PrintReport(out io.Writer, rep *Report) {
	c := rep.Counts
	fmt.Fprintf(out, "Done: %d, skipped: %d, failed: %d.\n", c[string(mqsql.Applied)], c[string(mqsql.Skipped)], c[string(mqsql.Failed)])
	for _, r := range []mqsql.Result{mqsql.Failed, mqsql.Skipped} {
		listOutcomes(out, rep.Outcomes, r)
	}
	if rep.Backup != "" {
		fmt.Fprintf(out, "Backup: %s (mqsql restore %s puts the messages back).\n", rep.Backup, rep.Backup)
	}
}

func listOutcomes(out io.Writer, outcomes []mqsql.Outcome, r mqsql.Result) {
	n := 0
	for _, o := range outcomes {
		if o.Result != r {
			continue
		}
		if n++; n <= maxListed {
			fmt.Fprintf(out, "  %s %s (%s): %s\n", r, o.QueueID, o.Queue, o.Detail)
		}
	}
	if n > maxListed {
		fmt.Fprintf(out, "  ... and %d more %s\n", n-maxListed, r)
	}
}

func shownSender(s string) string {
	if s == "" {
		return "MAILER-DAEMON"
	}
	return mqsql.QuoteLocal(s)
}
