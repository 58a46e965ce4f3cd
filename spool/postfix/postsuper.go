package postfix

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/syscmd"
)

// Postsuper acts on the live Postfix queue through Postfix's own commands, so that every
// change is one Postfix would make itself: postsuper for delete, hold, release, requeue and
// expire (queue IDs fed on standard input, the expected queue named so that a message that
// moved is not touched), postqueue -i for immediate delivery. No shell is involved and every
// queue ID is validated before it reaches a command.
type Postsuper struct {
	Spool *Spool
	// PostsuperPath and PostqueuePath are the commands; LookPath finds them when empty.
	PostsuperPath string
	PostqueuePath string
	// IncludeActive lets actions proceed on mail in the active queue.
	IncludeActive bool
}

var _ Executor = (*Postsuper)(nil)

// postsuperFlags maps operations to postsuper's option and the word it reports per message.
var postsuperFlags = map[mqsql.Op]struct{ flag, done string }{
	mqsql.OpDelete:        {"-d", "removed"},
	mqsql.OpHold:          {"-h", "placed on hold"},
	mqsql.OpRelease:       {"-H", "released from hold"},
	mqsql.OpRequeue:       {"-r", "requeued"},
	mqsql.OpExpire:        {"-e", "expired"},
	mqsql.OpExpireRelease: {"-f", "expired"},
}

// Command implements Executor.
func (p *Postsuper) Command(op mqsql.Op, queue mqsql.Queue) string {
	if op == mqsql.OpFlush {
		return "postqueue -i QUEUE_ID (once per message)"
	}
	return fmt.Sprintf("postsuper %s - %s < queue IDs", postsuperFlags[op].flag, queue)
}

// Apply implements Executor.
func (p *Postsuper) Apply(ctx context.Context, op mqsql.Op, queue mqsql.Queue, targets []mqsql.Target) []mqsql.Outcome {
	var out []mqsql.Outcome
	for start := 0; start < len(targets); start += batchSize {
		batch := targets[start:min(start+batchSize, len(targets))]
		if err := ctx.Err(); err != nil {
			return append(out, interrupted(op, targets[start:], err)...)
		}
		ok, skipped := p.Spool.checkBatch(op, batch, p.IncludeActive)
		out = append(out, skipped...)
		if len(ok) == 0 {
			continue
		}
		if op == mqsql.OpFlush {
			out = append(out, p.flush(ctx, ok)...)
			continue
		}
		out = append(out, p.run(ctx, op, queue, ok)...)
	}
	return out
}

// run feeds one batch to postsuper and reads back which IDs it reported as done.
func (p *Postsuper) run(ctx context.Context, op mqsql.Op, queue mqsql.Queue, batch []mqsql.Target) []mqsql.Outcome {
	f := postsuperFlags[op]
	var ids strings.Builder
	for _, t := range batch {
		ids.WriteString(t.QueueID)
		ids.WriteByte('\n')
	}
	path, err := lookCommand(p.PostsuperPath, "postsuper")
	if err != nil {
		return failAll(op, batch, err.Error())
	}
	cmd := exec.CommandContext(context.WithoutCancel(ctx), path, f.flag, "-", string(queue))
	cmd.Stdin = strings.NewReader(ids.String())
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	runErr := cmd.Run()
	done := reported(stderr.Bytes(), f.done)
	out := make([]mqsql.Outcome, 0, len(batch))
	for _, t := range batch {
		switch {
		case done[t.QueueID]:
			out = append(out, outcome(t, op, mqsql.Applied, "postsuper: "+f.done))
		case p.Spool.find(t.QueueID) != queue:
			out = append(out, outcome(t, op, mqsql.Skipped, "gone or moved before postsuper reached it"))
		default:
			out = append(out, outcome(t, op, mqsql.Failed, postsuperFailure(runErr, stderr.Bytes(), queue)))
		}
	}
	return out
}

// reported collects the queue IDs postsuper reported with "postsuper: ID: <word>".
func reported(output []byte, word string) map[string]bool {
	done := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(output))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "postsuper: ")
		id, what, ok := strings.Cut(line, ": ")
		if ok && what == word && ValidQueueID(id) {
			done[id] = true
		}
	}
	return done
}

// postsuperFailure says why postsuper left a message that is still in its queue alone. When
// postsuper ran cleanly, it did not find the message there: it moved out and back while
// postsuper ran (held and released, say), and its output says nothing about it.
func postsuperFailure(err error, output []byte, queue mqsql.Queue) string {
	if err == nil {
		return fmt.Sprintf("postsuper did not find it in %s; it is there now (moved out and back meanwhile?)", queue)
	}
	msg := strings.TrimSpace(string(output))
	if i := strings.LastIndex(msg, "fatal: "); i >= 0 {
		msg = msg[i:]
	} else if len(msg) > 300 {
		msg = msg[len(msg)-300:]
	}
	return fmt.Sprintf("postsuper did not report it done (%v): %s", err, msg)
}

// flush asks Postfix's flush service to deliver each message now (postqueue -i), then checks
// the file left the deferred queue, since postqueue reports nothing per message.
func (p *Postsuper) flush(ctx context.Context, batch []mqsql.Target) []mqsql.Outcome {
	path, err := lookCommand(p.PostqueuePath, "postqueue")
	if err != nil {
		return failAll(mqsql.OpFlush, batch, err.Error())
	}
	out := make([]mqsql.Outcome, 0, len(batch))
	for _, t := range batch {
		b, err := exec.CommandContext(context.WithoutCancel(ctx), path, "-i", t.QueueID).CombinedOutput()
		if err != nil {
			out = append(out, outcome(t, mqsql.OpFlush, mqsql.Failed, fmt.Sprintf("postqueue -i: %v: %s", err, bytes.TrimSpace(b))))
			continue
		}
		out = append(out, outcome(t, mqsql.OpFlush, mqsql.Applied, "postqueue -i: scheduled for delivery"))
	}
	return out
}

func lookCommand(path, name string) (string, error) {
	if path != "" {
		return path, nil
	}
	return syscmd.Find(name)
}

func failAll(op mqsql.Op, targets []mqsql.Target, why string) []mqsql.Outcome {
	out := make([]mqsql.Outcome, len(targets))
	for i, t := range targets {
		out[i] = outcome(t, op, mqsql.Failed, why)
	}
	return out
}
