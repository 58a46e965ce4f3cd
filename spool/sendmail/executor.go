package sendmail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// expireOption makes a queue run return the mail it selects to the sender at once: any
// message older than a second is past this return timeout. (Not "now": the bounce the run
// writes would expire in the same run, and its own bounce fail.)
const expireOption = "Timeout.queuereturn=1s"

// HoldReason is the quarantine reason mqsql gives mail it holds (sendmail -Q).
const HoldReason = "held by mqsql"

// Executor carries out statements on a Sendmail queue (mqsql.Executor): DELETE with file
// operations under Sendmail's own lock, exactly as sendmail-queue.md §6 says (Sendmail has no
// delete option, and qtool.pl deletes without locking); hold, release and flush through
// Sendmail's quarantine and queue runs (-Q, -qQ -Q, -qI), each file verified afterwards since
// -qI selects by substring; expiry as Sendmail's own return to sender (a queue run with
// Timeout.queuereturn=1s). Anything else is refused.
type Executor struct {
	Spool *Spool
	// Sendmail is the command that runs Sendmail on this queue, program first (for example
	// {"/usr/sbin/sendmail"}, or {"sendmail", "-C", "/etc/mail/sendmail.cf"}). It is only
	// run with -Q, -qQ and -qI options and a validated queue ID.
	Sendmail []string
	// IncludeActive lets actions proceed on mail a queue runner holds; DELETE still never
	// touches a locked message.
	IncludeActive bool
	// Offline marks a queue no Sendmail here runs on (a copy): only DELETE, a file operation,
	// is possible; Sendmail's commands would act on another queue.
	Offline bool
}

var _ mqsql.Executor = (*Executor)(nil)

// Refused reports a statement Sendmail has no equivalent for.
type Refused struct{ Op mqsql.Op }

func (e *Refused) Error() string {
	return fmt.Sprintf("Sendmail has no equivalent of %s: on a Sendmail queue mqsql can DELETE, UPDATE messages SET queue = 'hold' (quarantine), 'deferred' (release from quarantine) or 'active' (deliver now), and SET forced_expire = 1 (return to sender now)", e.Op)
}

// Command implements mqsql.Executor.
func (x *Executor) Command(op mqsql.Op, queue mqsql.Queue) string {
	sm := strings.Join(x.sendmail(), " ")
	switch {
	case op == mqsql.OpDelete:
		return "flock the control file (non-blocking), check it is the same file, unlink it, its df and xf"
	case x.Offline:
		return offlineRefusal(op)
	}
	switch op {
	case mqsql.OpHold:
		return fmt.Sprintf("%s -Q%q -qIQUEUE_ID -v (once per message)", sm, HoldReason)
	case mqsql.OpRelease:
		return sm + " -qQ -Q -qIQUEUE_ID -v (once per message)"
	case mqsql.OpFlush:
		return sm + " -qIQUEUE_ID -v (once per message)"
	case mqsql.OpExpire:
		return sm + " -O" + expireOption + " -qIQUEUE_ID -v (once per message: returned to the sender now)"
	}
	return (&Refused{Op: op}).Error()
}

func (x *Executor) sendmail() []string {
	if len(x.Sendmail) == 0 {
		return []string{"/usr/sbin/sendmail"}
	}
	return x.Sendmail
}

// Apply implements mqsql.Executor.
func (x *Executor) Apply(ctx context.Context, op mqsql.Op, queue mqsql.Queue, targets []mqsql.Target) []mqsql.Outcome {
	out := make([]mqsql.Outcome, 0, len(targets))
	var long []string
	if op != mqsql.OpDelete {
		long = x.Spool.longIDs(shortestID(targets))
	}
	for i, t := range targets {
		if err := ctx.Err(); err != nil {
			for _, rest := range targets[i:] {
				out = append(out, outcome(rest, op, mqsql.Skipped, "not reached: "+err.Error()))
			}
			break
		}
		out = append(out, x.applyOne(ctx, op, t, long))
	}
	return out
}

// applyOne checks one target and acts on it; long are the queue IDs longer than the
// shortest, the only ones that can contain another.
func (x *Executor) applyOne(ctx context.Context, op mqsql.Op, t mqsql.Target, long []string) mqsql.Outcome {
	switch op {
	case mqsql.OpDelete, mqsql.OpHold, mqsql.OpRelease, mqsql.OpFlush, mqsql.OpExpire:
	default:
		return outcome(t, op, mqsql.Failed, (&Refused{Op: op}).Error())
	}
	if x.Offline && op != mqsql.OpDelete {
		return outcome(t, op, mqsql.Failed, offlineRefusal(op))
	}
	if why := x.Spool.Check(t, x.IncludeActive || op == mqsql.OpDelete); why != "" {
		return outcome(t, op, mqsql.Skipped, why)
	}
	if op == mqsql.OpDelete {
		return x.delete(t)
	}
	if other := containing(long, t.QueueID); other != "" {
		return outcome(t, op, mqsql.Skipped, fmt.Sprintf("sendmail -qI%s would also select %s (it matches substrings): left alone", t.QueueID, other))
	}
	return x.run(ctx, op, t)
}

// offlineRefusal is why op cannot be done on a queue no Sendmail here runs on.
func offlineRefusal(op mqsql.Op) string {
	return fmt.Sprintf("%s needs the Sendmail that runs on this queue, and none here does (a copy of a queue?): only DELETE is possible", op)
}

func outcome(t mqsql.Target, op mqsql.Op, r mqsql.Result, detail string) mqsql.Outcome {
	return mqsql.Outcome{Action: mqsql.Action{Target: t, Op: op}, Result: r, Detail: detail}
}

// Check says why target t may not be acted on ("" when it may): its control file is gone or
// is another message now (a different arrival time: Sendmail rewrites the file, so the
// inode changes with every queue run, but T stays), or a queue runner holds it.
func (s *Spool) Check(t mqsql.Target, includeActive bool) string {
	if !ValidQueueID(t.QueueID) || !s.isControlPath(t.QueueID, t.Path) {
		return fmt.Sprintf("invalid target %q at %q", t.QueueID, t.Path)
	}
	m, err := s.Read(mqsql.Entry{Queue: t.Queue, QueueID: t.QueueID, File: mqsql.FileInfo{Path: t.Path}})
	if errors.Is(err, mqsql.ErrGone) {
		if q := s.find(t.QueueID); q != "" {
			return fmt.Sprintf("moved to %s since the plan was made", q)
		}
		return "gone: delivered, deleted or expired since the plan was made"
	}
	if err != nil {
		return fmt.Sprintf("cannot check the file: %v", err)
	}
	switch {
	case m.ArrivalTime != t.ArrivalTime:
		return fmt.Sprintf("replaced: arrival time is %d, was %d", m.ArrivalTime, t.ArrivalTime)
	case m.Queue == mqsql.Active && !includeActive:
		return "active: a queue runner holds it (--include-active acts on it anyway)"
	}
	return ""
}

// isControlPath reports whether rel is one of the places Sendmail keeps id's control file.
func (s *Spool) isControlPath(id, rel string) bool {
	for _, p := range s.Locations(id) {
		if p.Path == rel {
			return true
		}
	}
	return false
}

// find returns the queue of id's control file as its letter says, "" when there is none.
func (s *Spool) find(id string) mqsql.Queue {
	for _, p := range s.Locations(id) {
		if _, ok, _ := s.Stat(p.Queue, id, p.Path); ok {
			return p.Queue
		}
	}
	return ""
}

// longIDs lists the queue IDs of control files longer than n: only those can contain an ID
// of n characters, which sendmail -qI would then select too. (With today's 14-character IDs,
// 15-character ones come from process IDs of a million or more, so the list is usually
// empty; an old short ID can be in any longer one.)
func (s *Spool) longIDs(n int) []string {
	var out []string
	_ = s.walkControl(context.Background(), false, func(_ byte, id, _ string, _ *unix.Stat_t) error {
		if len(id) > n {
			out = append(out, id)
		}
		return nil
	})
	return out
}

// shortestID is the length of the shortest queue ID among targets.
func shortestID(targets []mqsql.Target) int {
	n := maxIDLen
	for _, t := range targets {
		n = min(n, len(t.QueueID))
	}
	return n
}

// containing returns an ID of ids that contains id and is not id, "" when none does.
func containing(ids []string, id string) string {
	for _, other := range ids {
		if other != id && strings.Contains(other, id) {
			return other
		}
	}
	return ""
}

// run has Sendmail quarantine, release or deliver one message and verifies the result.
func (x *Executor) run(ctx context.Context, op mqsql.Op, t mqsql.Target) mqsql.Outcome {
	opts := argsText(op)
	args := append(opts[:len(opts)-1:len(opts)-1], "-qI"+t.QueueID, "-v")
	before, _, _ := x.Spool.Stat(t.Queue, t.QueueID, t.Path)
	sm := x.sendmail()
	cmd := exec.CommandContext(context.WithoutCancel(ctx), sm[0], append(append([]string{}, sm[1:]...), args...)...)
	output, runErr := cmd.CombinedOutput()
	if bytes.Contains(output, []byte(t.QueueID+": locked")) {
		return outcome(t, op, mqsql.Skipped, "active: a queue runner holds it")
	}
	return x.verify(op, t, before.File.Inode, output, runErr)
}

// verify checks that Sendmail did what op asked of t's files: the control file is where op
// puts it and nowhere else, and a delivery attempt rewrote it (a new inode), since -qI says
// nothing when it selects nothing. inode is the control file's before the run.
func (x *Executor) verify(op mqsql.Op, t mqsql.Target, inode uint64, output []byte, runErr error) mqsql.Outcome {
	s := x.Spool
	qf, qfThere, qfErr := s.Stat(mqsql.Incoming, t.QueueID, s.partRel(t.Path, nil, letterQueue, t.QueueID))
	_, hfThere, hfErr := s.Stat(mqsql.Hold, t.QueueID, s.partRel(t.Path, nil, letterHold, t.QueueID))
	switch {
	case qfErr != nil || hfErr != nil:
		return outcome(t, op, mqsql.Failed, fmt.Sprintf("sendmail %s ran (%v), but its result cannot be checked: %v", strings.Join(argsText(op), " "), runErr, errors.Join(qfErr, hfErr)))
	case op == mqsql.OpHold && hfThere && !qfThere:
		return outcome(t, op, mqsql.Applied, fmt.Sprintf("quarantined with %q", HoldReason))
	case op == mqsql.OpRelease && qfThere && !hfThere:
		return outcome(t, op, mqsql.Applied, "released from quarantine")
	case (op == mqsql.OpFlush || op == mqsql.OpExpire) && !qfThere && !hfThere:
		return outcome(t, op, mqsql.Applied, doneText[op]+lastLine(output))
	case op == mqsql.OpFlush && qfThere && qf.File.Inode != inode:
		return outcome(t, op, mqsql.Applied, "delivery attempted: "+lastLine(output))
	}
	return outcome(t, op, mqsql.Failed, fmt.Sprintf("sendmail %s: the file is not as expected afterwards (%v): %s", strings.Join(argsText(op), " "), runErr, lastLine(output)))
}

// doneText starts the report of a message that left the queue.
var doneText = map[mqsql.Op]string{
	mqsql.OpFlush:  "delivered or bounced by the queue run: ",
	mqsql.OpExpire: "returned to the sender: ",
}

// argsText names op's sendmail options for error messages.
func argsText(op mqsql.Op) []string {
	switch op {
	case mqsql.OpHold:
		return []string{"-Q" + HoldReason, "-qI"}
	case mqsql.OpRelease:
		return []string{"-qQ", "-Q", "-qI"}
	case mqsql.OpExpire:
		return []string{"-O" + expireOption, "-qI"}
	}
	return []string{"-qI"}
}

// lastLine is the last non-empty line of a command's output, for reports.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
