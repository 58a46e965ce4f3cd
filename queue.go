package mqsql

// Queue names one of Postfix's queue directories. The values are the directory names, which
// are also what postqueue -j reports as queue_name and what the messages.queue column holds.
type Queue string

// The queues mqsql reads. Corrupt is not a message queue to Postfix (showq never lists it), but
// admins need to see what landed there, so its files are rows too.
const (
	Maildrop Queue = "maildrop"
	Incoming Queue = "incoming"
	Active   Queue = "active"
	Deferred Queue = "deferred"
	Hold     Queue = "hold"
	Corrupt  Queue = "corrupt"
)

// MessageQueues lists the queues that hold live mail, in the order showq scans them, so that
// anything listing the queue the way postqueue does can follow the same order.
var MessageQueues = []Queue{Maildrop, Active, Incoming, Deferred, Hold}

// AllQueues is MessageQueues plus Corrupt: every directory whose files become messages rows.
var AllQueues = []Queue{Maildrop, Active, Incoming, Deferred, Hold, Corrupt}

// Valid reports whether q is one of the queue names above; anything else must never be used to
// build a path.
func (q Queue) Valid() bool {
	for _, k := range AllQueues {
		if q == k {
			return true
		}
	}
	return false
}
