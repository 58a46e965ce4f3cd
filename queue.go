package mqsql

// Queue is the state of a queued message in the words every driver uses, which the
// messages.queue column holds (Postfix's directory names, which postqueue -j reports as
// queue_name). Which of them an MTA has, what it lists and which moves between them it
// offers is its driver's Meaning, never a list here.
type Queue string

// The queue values. Corrupt holds files that are not mail to their MTA (Postfix's corrupt/,
// Sendmail's lost Qf, Exim's unreadable -H), which admins need to see, so its files are rows
// too.
const (
	Maildrop Queue = "maildrop"
	Incoming Queue = "incoming"
	Active   Queue = "active"
	Deferred Queue = "deferred"
	Hold     Queue = "hold"
	Corrupt  Queue = "corrupt"
)

// AllQueues is every queue value, the vocabulary Valid checks against. An MTA has some of
// them, in its own order: see Meaning.Queues.
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
