package exim

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/syscmd"
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
	if op == mqsql.OpExpire || op == mqsql.OpExpireRelease {
		return fmt.Sprintf("exim [-qGNAME] %s QUEUE_ID… (returned to the sender now)", f.flag)
	}
	return fmt.Sprintf("exim [-qGNAME] %s QUEUE_ID…", f.flag)
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
		for _, group := range byNamedQueue(ok) {
			out = append(out, x.run(ctx, op, group)...)
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
	args := append([]string{}, x.Args...)
	if q := hpath(batch[0].Path).namedQueue(); q != "" {
		if !validQueueName(q) {
			return allWith(op, batch, mqsql.Failed, fmt.Sprintf("named queue %q: not a name mqsql passes to exim", q))
		}
		args = append(args, "-qG"+q)
	}
	args = append(args, f.flag)
	for _, t := range batch {
		args = append(args, t.QueueID)
	}
	logs := make([]mqsql.LogStamp, len(batch))
	for i, t := range batch {
		logs[i], _ = x.Spool.StatLog(t.QueueID)
	}
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin, args...)
	cmd.Env = x.Env
	output, runErr := cmd.CombinedOutput()
	said := perMessage(output)
	out := make([]mqsql.Outcome, 0, len(batch))
	for i, t := range batch {
		r := reply{said: said[t.QueueID], err: runErr, output: output, logBefore: logs[i]}
		out = append(out, x.judge(op, t, r))
	}
	return out
}

// reply is what one exim command left to judge one target by: the lines exim printed about
// it, how the command ended and all it printed, and the target's msglog stamp before it ran.
type reply struct {
	said      string
	err       error
	output    []byte
	logBefore mqsql.LogStamp
}

// byNamedQueue splits targets by the named queue they are in, keeping their order within
// each: exim's -M options act on the default queue, or on the one -qG names.
func byNamedQueue(targets []mqsql.Target) [][]mqsql.Target {
	var groups [][]mqsql.Target
	at := map[string]int{}
	for _, t := range targets {
		q := hpath(t.Path).namedQueue()
		i, ok := at[q]
		if !ok {
			i = len(groups)
			at[q] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], t)
	}
	return groups
}

// validQueueName reports whether q, a directory name in the spool, may follow -qG: letters,
// digits, '_', '-' and '.', and no '-' or '.' first, so that it is never read as an option.
func validQueueName(q string) bool {
	if q == "" || q[0] == '-' || q[0] == '.' {
		return false
	}
	for i := 0; i < len(q); i++ {
		if c := q[i]; !isBase62(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// judge decides one target's outcome from exim's reply and where the message is now. exim
// -M prints nothing, whether or not it tried a delivery: a flush is done when the message
// left, or when the attempt rewrote its -H or wrote to its msglog.
func (x *Executor) judge(op mqsql.Op, t mqsql.Target, r reply) mqsql.Outcome {
	f := eximOps[op]
	where := x.Spool.find(t.QueueID)
	gone := where == ""
	switch {
	case strings.Contains(r.said, "is locked"):
		return outcomeOf(t, op, mqsql.Skipped, "active: a delivery process holds it (exim: "+r.said+")")
	case op == mqsql.OpDelete && strings.Contains(r.said, f.done) && !gone:
		// "has been removed or did not exist": exim looked elsewhere.
		return outcomeOf(t, op, mqsql.Failed, fmt.Sprintf("exim said %q, but the message is still at %s", r.said, where))
	case f.done != "" && strings.Contains(r.said, f.done):
		return outcomeOf(t, op, mqsql.Applied, "exim: "+r.said)
	case op == mqsql.OpFlush && r.said == "" && gone:
		return outcomeOf(t, op, mqsql.Applied, "exim -M: delivered or returned, it left the queue")
	case op == mqsql.OpFlush && r.said == "" && x.attempted(t, where, r.logBefore):
		return outcomeOf(t, op, mqsql.Applied, "exim -M: delivery attempted")
	case (op == mqsql.OpExpire || op == mqsql.OpExpireRelease) && gone:
		return outcomeOf(t, op, mqsql.Applied, "exim -Mg: cancelled, returned to its sender")
	case op == mqsql.OpDelete && gone && r.said == "":
		return outcomeOf(t, op, mqsql.Skipped, "gone before exim reached it")
	}
	said := r.said
	if said == "" {
		said = strings.TrimSpace(lastLine(r.output))
	}
	if said == "" && r.err != nil {
		said = r.err.Error()
	}
	return outcomeOf(t, op, mqsql.Failed, fmt.Sprintf("exim %s did not report it done: %s", f.flag, said))
}

// attempted reports whether a delivery attempt changed the message whose -H is at where: a
// new -H (Exim rewrites it by rename) or a msglog that is not as it was.
func (x *Executor) attempted(t mqsql.Target, where string, logBefore mqsql.LogStamp) bool {
	st, err := x.Spool.root.Lstat(where)
	if err != nil {
		return true // it left between the two looks
	}
	logNow, _ := x.Spool.StatLog(t.QueueID)
	return st.Ino != t.Inode || logNow != logBefore
}

// lastLine is the last line of output that is not empty.
func lastLine(output []byte) string {
	lines := strings.Split(strings.TrimSpace(string(output)), "\n")
	return lines[len(lines)-1]
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
	return syscmd.FindFirst("exim4", "exim")
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
