package spoolgen

// Message is one generated queue file: what the generator decided and, after Encode, where
// each record landed. It is the truth that tests and benchmarks compare a reader's answer
// with, so its fields use the terms of postqueue and of mqsql's messages table.
type Message struct {
	QueueID string
	Queue   string // maildrop, incoming, active, deferred, hold
	// Path is relative to the spool: queue, hash directories, ID.
	Path  string
	Inode uint64
	// LongID tells which queue ID format the file was named with.
	LongID bool
	// IDSec and IDUsec are the time the ID encodes (file creation), a few milliseconds after
	// the arrival time.
	IDSec, IDUsec int64

	Kind Kind
	// ArrivalSec and ArrivalUsec are the T record.
	ArrivalSec, ArrivalUsec int64
	Sender                  string // as stored, unquoted; "" is the null sender
	FullName                string // F record of locally submitted mail
	SASLUsername            string
	ClientAddress           string
	ClientName              string
	HeloName                string
	ClientPort              int
	EnvelopeID              string // DSN ENVID; "" = none
	RetFlags                int    // DSN RET; 0 = none
	SMTPUTF8                bool
	EightBit                bool

	// Headers are the primary header lines, in order, folded lines as separate entries.
	Headers []string
	// BodyLines is how many body lines follow the header/body separator, and LongLines how
	// many of them are longer than Postfix's line_length_limit.
	BodyLines, LongLines int
	Subject              string // decoded, as mqsql shows it; "" = no Subject header
	From                 string // the From header
	MessageID            string

	Recipients []Recipient

	// ContentSize is the C record's first field (postqueue's message_size), or 0 for a
	// maildrop file written by postdrop, which has no C record.
	ContentSize int64
	DataOffset  int64
	FileSize    int64
	Mode        uint32
	MTime       int64 // unix seconds; for deferred mail, the next retry time

	// DeferLog is the defer log's text, "" when the message has none; DeferLogPath is where it
	// was written, relative to the spool.
	DeferLog     string
	DeferLogPath string
	LogMTime     int64

	// What Encode needs to rebuild the content: the seed of the body's lines, the file size to
	// reach, whether the Subject is RFC 2047 encoded, the X-Mailer, and whether the body
	// carries an attachment.
	bodySeed       uint64
	targetSize     int
	subjectEncoded bool
	mailer         string
	attachment     bool
}

// Kind is how a message entered the queue, which decides its envelope records.
type Kind int

const (
	// SMTP mail received by smtpd: client attributes, log_ident, DSN original recipients.
	SMTP Kind = iota
	// Local mail submitted with sendmail and picked up from maildrop: sender_fullname, no
	// client attributes.
	Local
	// Bounce is a non-delivery report from the bounce daemon: null sender.
	Bounce
	// Postdrop is a file in maildrop as postdrop writes it, before pickup: no C record.
	Postdrop
)

// String names the kind, for test names and messages.
func (k Kind) String() string {
	return [...]string{"smtp", "local", "bounce", "postdrop"}[k]
}

// Recipient is one recipient record and what the defer log says about it.
type Recipient struct {
	Address string // as stored, unquoted
	Orig    string // the O record; "" = none
	// DSNOrig is the dsn_orig_rcpt attribute ("rfc822;addr"); "" = none.
	DSNOrig string
	// NotifyFlags is the DSN NOTIFY bit mask (1 NEVER, 2 SUCCESS, 4 FAILURE, 8 DELAY); 0 = none.
	NotifyFlags int
	// Done marks a recipient already delivered: its record is a D, not an R.
	Done bool
	// Extracted puts the recipient in the extracted segment, as sendmail -t does.
	Extracted bool
	// Offset is the file offset of the R or D record's type byte, set by Encode.
	Offset int64

	// Deferred recipients have a defer-log entry with these fields.
	Deferred  bool
	DSNStatus string
	Reason    string
	DiagType  string
	DiagText  string
	MTAName   string
}

// PendingCount is how many recipients postqueue lists: those not yet delivered.
func (m *Message) PendingCount() int {
	n := 0
	for _, r := range m.Recipients {
		if !r.Done {
			n++
		}
	}
	return n
}

// Size is postqueue's message_size: the C record's content size, or the file size when the
// file has none.
func (m *Message) Size() int64 {
	if m.Kind == Postdrop {
		return m.FileSize
	}
	return m.ContentSize
}
