package exim

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/mqsql/mqsql"
)

// Executor acts on a live Exim spool through Exim's own commands (mqsql.Executor): exim -Mrm,
// -Mf, -Mt, -M and -Mg take Exim's lock on the message first, so they are safe against a
// running Exim, and a message a delivery is working on is reported locked and left alone.
// No shell is involved and every message ID is validated before it reaches a command.
type Executor struct {
	Spool *Spool
	// Exim is the exim binary; empty finds exim4 or exim in PATH, /usr/sbin or /usr/local/sbin.
	Exim string
	// Args come before the operation on every command: a private config (-C) and macros (-D)
	// when the spool is not the one Exim's default config names.
	Args []string
	// Env is the commands' environment; nil inherits mqsql's.
	Env []string
	// IncludeActive lets the re-check pass a message a delivery holds; exim then reports it
	// locked, and it is skipped all the same.
	IncludeActive bool
}

var _ mqsql.Executor = (*Executor)(nil)

// eximOps maps operations to exim's option and what it prints for a message it did, "" when
// it prints nothing on success.
var eximOps = map[mqsql.Op]struct{ flag, done string }{
	mqsql.OpDelete:  {"-Mrm", "has been removed"},
	mqsql.OpHold:    {"-Mf", "is now frozen"},
	mqsql.OpRelease: {"-Mt", "is no longer frozen"},
	mqsql.OpFlush:   {"-M", ""},
	mqsql.OpExpire:  {"-Mg", ""},
	// Exim gives up on frozen mail as on any other: -Mg thaws it as it cancels it.
	mqsql.OpExpireRelease: {"-Mg", ""},
}

// eximBatch is how many message IDs one exim command gets: the check before acting stays
// close to the act.
const eximBatch = 200

// Supports says whether Exim has a command for op, and if not, why the statement is refused.
func Supports(op mqsql.Op) error {
	if _, ok := eximOps[op]; ok {
		return nil
	}
	switch op {
	case mqsql.OpRequeue:
		return fmt.Errorf("exim has no requeue: a message stays in input/ from reception to completion (use queue = 'active' to deliver now)")
	}
	return fmt.Errorf("exim has no equivalent of %s", op)
}

// Command is the exim command that carries out op, for plans and dry runs.
func (x *Executor) Command(op mqsql.Op, _ mqsql.Queue) string {
	f, ok := eximOps[op]
	if !ok {
		return "refused: " + Supports(op).Error()
	}
	return fmt.Sprintf("exim %s QUEUE_ID…", f.flag)
}

// Apply carries out op on targets, checking each right before its batch runs: the same -H
// (inode and arrival time), still there, not locked by a delivery.
func (x *Executor) Apply(ctx context.Context, op mqsql.Op, _ mqsql.Queue, targets []mqsql.Target) []mqsql.Outcome {
	if err := Supports(op); err != nil {
		return allWith(op, targets, mqsql.Failed, "refused: "+err.Error())
	}
	var out []mqsql.Outcome
	for start := 0; start < len(targets); start += eximBatch {
		batch := targets[start:min(start+eximBatch, len(targets))]
		if err := ctx.Err(); err != nil {
			return append(out, allWith(op, targets[start:], mqsql.Skipped, "not reached: "+err.Error())...)
		}
		var ok []mqsql.Target
		for _, t := range batch {
			if why := x.Spool.Check(t, x.IncludeActive); why != "" {
				out = append(out, outcomeOf(t, op, mqsql.Skipped, why))
			} else {
				ok = append(ok, t)
			}
		}
		if len(ok) > 0 {
			out = append(out, x.run(ctx, op, ok)...)
		}
	}
	return out
}

// run runs one exim command on batch and tells each target's outcome from what exim printed
// about it and where the message is now.
func (x *Executor) run(ctx context.Context, op mqsql.Op, batch []mqsql.Target) []mqsql.Outcome {
	f := eximOps[op]
	bin, err := x.binary()
	if err != nil {
		return allWith(op, batch, mqsql.Failed, err.Error())
	}
	args := append(append([]string{}, x.Args...), f.flag)
	for _, t := range batch {
		args = append(args, t.QueueID)
	}
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin, args...)
	cmd.Env = x.Env
	output, runErr := cmd.CombinedOutput()
	said := perMessage(output)
	out := make([]mqsql.Outcome, 0, len(batch))
	for _, t := range batch {
		out = append(out, x.judge(op, t, said[t.QueueID], runErr))
	}
	return out
}

// judge decides one target's outcome.
func (x *Executor) judge(op mqsql.Op, t mqsql.Target, said string, runErr error) mqsql.Outcome {
	f := eximOps[op]
	gone := x.Spool.find(t.QueueID) == ""
	switch {
	case strings.Contains(said, "is locked"):
		return outcomeOf(t, op, mqsql.Skipped, "active: a delivery process holds it (exim: "+said+")")
	case f.done != "" && strings.Contains(said, f.done):
		return outcomeOf(t, op, mqsql.Applied, "exim: "+said)
	case op == mqsql.OpFlush && said == "":
		return outcomeOf(t, op, mqsql.Applied, "exim -M: delivery attempted")
	case (op == mqsql.OpExpire || op == mqsql.OpExpireRelease) && gone:
		return outcomeOf(t, op, mqsql.Applied, "exim -Mg: cancelled, returned to its sender")
	case op == mqsql.OpDelete && gone && said == "":
		return outcomeOf(t, op, mqsql.Skipped, "gone before exim reached it")
	}
	if said == "" && runErr != nil {
		said = runErr.Error()
	}
	return outcomeOf(t, op, mqsql.Failed, fmt.Sprintf("exim %s did not report it done: %s", f.flag, said))
}

// perMessage collects, per message ID, what exim printed on lines "Message ID …".
func perMessage(output []byte) map[string]string {
	said := map[string]string{}
	for _, line := range bytes.Split(output, []byte("\n")) {
		rest, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("Message "))
		if !ok {
			continue
		}
		id, text, _ := strings.Cut(string(rest), " ")
		if ValidQueueID(id) {
			said[id] = strings.TrimSpace(said[id] + " " + "Message " + id + " " + text)
		}
	}
	return said
}

// binary is the exim command to run.
func (x *Executor) binary() (string, error) {
	if x.Exim != "" {
		return x.Exim, nil
	}
	for _, name := range []string{"exim4", "exim", "/usr/sbin/exim4", "/usr/sbin/exim", "/usr/local/sbin/exim"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exim not found (tried exim4 and exim in PATH, /usr/sbin, /usr/local/sbin)")
}

func outcomeOf(t mqsql.Target, op mqsql.Op, r mqsql.Result, detail string) mqsql.Outcome {
	return mqsql.Outcome{Action: mqsql.Action{Target: t, Op: op}, Result: r, Detail: detail}
}

func allWith(op mqsql.Op, targets []mqsql.Target, r mqsql.Result, detail string) []mqsql.Outcome {
	out := make([]mqsql.Outcome, len(targets))
	for i, t := range targets {
		out[i] = outcomeOf(t, op, r, detail)
	}
	return out
}
