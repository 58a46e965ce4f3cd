package mqsql

// Op is a change to queued mail that a write statement asks for. Each maps to one postsuper or
// postqueue operation, so what mqsql does is what an admin would have typed.
type Op string

// The operations. The comments name the Postfix command each one is.
const (
	OpDelete        Op = "delete"         // postsuper -d
	OpHold          Op = "hold"           // postsuper -h
	OpRelease       Op = "release"        // postsuper -H
	OpRequeue       Op = "requeue"        // postsuper -r
	OpFlush         Op = "flush"          // postqueue -i
	OpExpire        Op = "expire"         // postsuper -e
	OpExpireRelease Op = "expire-release" // postsuper -f: expire held mail and release it
)

// Verb is how the operation is named in questions and reports ("Delete 3 messages?").
func (o Op) Verb() string {
	switch o {
	case OpDelete:
		return "Delete"
	case OpHold:
		return "Hold"
	case OpRelease:
		return "Release"
	case OpRequeue:
		return "Requeue"
	case OpFlush:
		return "Flush"
	case OpExpire:
		return "Expire"
	case OpExpireRelease:
		return "Expire and release"
	}
	return string(o)
}

// Target is the exact queue file a statement matched. Before acting, mqsql checks the file is
// still this one: queue IDs can move between queues and, with short IDs, be reused by new mail.
type Target struct {
	QueueID     string
	Queue       Queue
	Inode       uint64
	ArrivalTime int64
	Path        string
	Sender      string
	Subject     string
}

// Action is one planned change to one message. Skip says why the change does not apply (for
// example holding mail that is already held); such actions are reported, never carried out.
type Action struct {
	Target
	Op   Op
	Skip string
}

// Result says how an action ended.
type Result string

const (
	// Applied means Postfix (or the direct file operation) confirmed the change.
	Applied Result = "done"
	// Skipped means the message was left alone on purpose: it moved, left the queue, is
	// being delivered, or the change does not apply to it.
	Skipped Result = "skipped"
	// Failed means the change was attempted and did not happen.
	Failed Result = "failed"
)

// Outcome is what happened to one action.
type Outcome struct {
	Action
	Result Result
	Detail string
}
