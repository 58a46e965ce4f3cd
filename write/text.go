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
// commands, a sample, and what will be left alone.
func (w *Writer) PrintPlan(out io.Writer, p *Plan) {
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
	printSample(out, p)
	if n := len(p.Actions) - p.Runnable(); n > 0 {
		fmt.Fprintf(out, "Left alone: %s %s:\n", thousands(n), plural(n, "message", "messages"))
		listOutcomes(out, p.skipped(), mqsql.Skipped)
	}
}

func printSample(out io.Writer, p *Plan) {
	n := 0
	for _, g := range p.Groups {
		for _, t := range g.Targets {
			if n == 0 {
				fmt.Fprintln(out, "Messages:")
			}
			if n++; n > planSampleSize {
				break
			}
			fmt.Fprintf(out, "  %-8s %-17s %-9s %s  %q\n", g.Op, t.QueueID, t.Queue, output.Escape(shownSender(t.Sender)), t.Subject)
		}
	}
	if total := p.Runnable(); total > planSampleSize {
		fmt.Fprintf(out, "  ... and %s more\n", thousands(total-planSampleSize))
	}
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
