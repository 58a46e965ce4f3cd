package mqsql

import (
	"fmt"
	"slices"
	"strings"
)

// Meaning is what an MTA's queue means, declared by its driver as one value: which queue
// names it has, which operations a statement can ask of it and from which queues, and which
// of its files its own listing (postqueue -j, mailq, exim -bp) shows. The planner, the views,
// the running totals and the metrics take these answers from here, so that no package but the
// driver holds an MTA's rule, and a new MTA is a new value rather than new branches elsewhere.
type Meaning struct {
	// MTA is the MTA's name as people say it ("Postfix"), for statement errors.
	MTA string
	// Queues are the values messages.queue takes on this MTA, in the order its own listing
	// shows them. Listed says which of them that listing shows at all (not corrupt).
	Queues []QueueMeaning
	// Moves are what UPDATE messages SET queue = '…' does here, one per queue it can ask for.
	Moves []Move
	// Lacks are the queue values a statement may ask for on another MTA and not on this one,
	// with why: a statement asking for one is refused before anything is planned.
	Lacks []Lack
	// Expire is how SET forced_expire = 1 is carried out, per queue; nil when the MTA has no
	// expire.
	Expire []Move
	// ExpireReturnsAtOnce is true when the expire returns the mail to its sender at once and
	// removes it (exim -Mg, Sendmail's queue run past its return timeout), where postsuper -e
	// only marks it for the next delivery attempt: the one-statement expire and deliver now
	// is then the expire alone, since a delivery after it could only find the mail gone.
	ExpireReturnsAtOnce bool
	// ExpireNowSays names, in the MTA's words, what the one-statement expire and deliver now
	// (SET forced_expire = 1, queue = 'active') runs, for errors.
	ExpireNowSays string
	// ExpireSkips says, per queue, why forced_expire = 1 leaves its mail alone, in the MTA's
	// words; a queue in none of Expire and not here gets a generic reason.
	ExpireSkips map[Queue]string
	// CorruptSkip is why a statement leaves mail in corrupt alone, in the MTA's words: what
	// those files are to it and what an admin can do with them.
	CorruptSkip string
	// Listed reports whether the MTA's own listing shows the message m (m as read, or as the
	// index keeps it after a rename: its queue, ID, file mode and size, message size and
	// error are all there is). Its pending recipients are then what that listing counts.
	Listed func(m *Message) bool
}

// QueueMeaning is one queue of an MTA.
type QueueMeaning struct {
	Queue Queue
	// Listed is true for a queue whose mail the MTA's listing shows (false for corrupt).
	Listed bool
}

// Move is one operation a statement can ask for: Op, carried out by Command on mail in From.
type Move struct {
	// To is the queue value an UPDATE sets (unused in Meaning.Expire).
	To Queue
	Op Op
	// From are the queues whose mail Op applies to; mail elsewhere is skipped with a reason.
	From []Queue
	// Says names the operation in the MTA's words, for errors: "release, postsuper -H".
	Says string
}

// Lack is a queue value this MTA has no operation for.
type Lack struct {
	To Queue
	// Op is the operation the value asks for on the MTAs that have it ("requeue").
	Op Op
	// Why is the reason, in the MTA's words.
	Why string
}

// QueueNames are the names of m's queues, listed or not, in order.
func (m *Meaning) QueueNames() []Queue {
	out := make([]Queue, len(m.Queues))
	for i, q := range m.Queues {
		out[i] = q.Queue
	}
	return out
}

// Has reports whether q is one of m's queues.
func (m *Meaning) Has(q Queue) bool {
	return slices.ContainsFunc(m.Queues, func(x QueueMeaning) bool { return x.Queue == q })
}

// MoveTo returns the move that sets queue = to; false when the MTA has none.
func (m *Meaning) MoveTo(to Queue) (Move, bool) {
	for _, mv := range m.Moves {
		if mv.To == to {
			return mv, true
		}
	}
	return Move{}, false
}

// ExpireFrom returns the expire that applies to mail in q; false when none does.
func (m *Meaning) ExpireFrom(q Queue) (Move, bool) {
	for _, mv := range m.Expire {
		if slices.Contains(mv.From, q) {
			return mv, true
		}
	}
	return Move{}, false
}

// Offers says which queue values a statement can set on this MTA, in its words:
// "'hold' (postsuper -h), 'deferred' (release, postsuper -H) or 'active' (…)".
func (m *Meaning) Offers() string {
	parts := make([]string, len(m.Moves))
	for i, mv := range m.Moves {
		parts[i] = fmt.Sprintf("'%s' (%s)", mv.To, mv.Says)
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// Lacking returns why the MTA has no operation setting queue = to; false when it is not one
// of m's Lacks.
func (m *Meaning) Lacking(to Queue) (Lack, bool) {
	for _, l := range m.Lacks {
		if l.To == to {
			return l, true
		}
	}
	return Lack{}, false
}
