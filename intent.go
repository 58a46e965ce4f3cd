package mqsql

// Intent is what an mqsql operation is about to do to one message, told to the index before
// the operation acts, so that the events the watcher then records can say why the message
// moved (events.reason) and which audit record did it.
type Intent struct {
	// QueueID is the ID the operation acts on; "" when the message has none yet (a restore
	// names it only by LogIdent).
	QueueID string
	// Reason is what events.reason says, e.g. "deleted by mqsql".
	Reason string
	// Reappears says the message comes back under a new queue ID (a requeue, a restore: pickup
	// copies it into a new file), so the arrival of that ID is explained too. The index
	// recognises the new file by its log_ident, which pickup keeps.
	Reappears bool
	// LogIdent is the message's log_ident when the caller knows it; "" lets the index take it
	// from what it read of QueueID's file.
	LogIdent string
}
