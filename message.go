package mqsql

// Message is one queue file as mqsql understands it: the envelope Postfix keeps, the few
// headers admins search by, and the file facts needed to act on exactly this file later.
// Field names follow the columns of the messages table.
type Message struct {
	QueueID string
	Queue   Queue

	// ArrivalTime is in unix seconds, taken as postqueue takes it: the first T record, or the
	// file's mtime when there is none.
	ArrivalTime int64
	// Size is postqueue's message_size: the C record's content size, or the file size when
	// the file has no usable C record (postdrop files in maildrop).
	Size int64
	// Sender is the envelope sender as stored, unquoted; "" is the null sender (MAILER-DAEMON).
	Sender       string
	ForcedExpire bool
	// NextAttempt is the file's mtime in unix seconds: for deferred mail Postfix sets it to
	// the time of the next delivery attempt.
	NextAttempt int64

	Subject    string
	FromHeader string
	MessageID  string

	// Named attributes written by smtpd; "" when absent (Postfix never stores empty ones).
	ClientAddress string
	HeloName      string
	SASLUsername  string
	// LogIdent is the log_ident attribute: the queue ID the message first had when smtpd
	// received it. pickup keeps it when it copies a requeued or restored file into a new one,
	// so it links a message's new queue ID to its old one ("" for local submissions).
	LogIdent string
	// HoldReason is why a held message is held, for MTAs that keep one (Sendmail's
	// quarantine reason, the q line of an hf file; Exim's last "Frozen" reason in the
	// msglog); "" otherwise. It is the hold_reason column.
	HoldReason string
	// QueueName is the named queue (Exim) or queue group (Sendmail) the message is in, ""
	// in the MTA's default queue and for MTAs without them. It is the queue_name column: the
	// queue column says what state the message is in, which is orthogonal to it.
	QueueName string

	File FileInfo

	// Error is "" when the file was read cleanly and otherwise says what is wrong with it.
	// A damaged file is still a message: hiding it would hide mail.
	Error string
	// Listed is whether the MTA's own listing (postqueue -j, mailq, exim -bp) shows this
	// message, as its driver's Meaning.Listed says: the views that count what that listing
	// counts (qshape) take only these rows. Set by the driver's reader.
	Listed bool

	Recipients []Recipient
}

// PendingCount is the number of recipients still to be delivered: what postqueue lists.
func (m *Message) PendingCount() int {
	n := 0
	for _, r := range m.Recipients {
		if r.Status == Pending {
			n++
		}
	}
	return n
}

// FileInfo is a queue file as a driver saw it: its path, relative to the spool, and its Stamp.
// Inode lets a later action check it still has the same file.
type FileInfo struct {
	Path string
	Stamp
}

// Stamp is what the index keeps of a message to tell, on the next look, whether it changed,
// so that it reads again only what did. The driver fills it from its own files and state, each
// in a field of its own, and the index only compares two stamps: the file the row names (its
// size, inode, mode and mtime), the message's log, and its lock.
type Stamp struct {
	Size         int64
	Inode        uint64
	ModTimeNanos int64
	// Log is the stamp of the message's log (Postfix's defer log, Exim's msglog), NoLog when
	// it has none: a new delay reason changes the message without touching its file.
	Log  LogStamp
	Mode uint32
	// Locked reports that a delivery holds the message's lock (Exim's -D lock, a Sendmail
	// queue runner's flock on its qf): taking or releasing it changes no file, but changes
	// the message (it is active while locked).
	Locked bool
}
