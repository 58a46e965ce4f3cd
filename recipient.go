package mqsql

// RecipientStatus says what Postfix has done with one recipient record of a queue file.
type RecipientStatus string

const (
	// Pending recipients (R records) are still to be delivered; postqueue lists them.
	Pending RecipientStatus = "pending"
	// Done recipients (D records) were delivered or bounced already.
	Done RecipientStatus = "done"
	// Removed recipients (/ records) were deleted by a Milter.
	Removed RecipientStatus = "removed"
)

// Recipient is one recipient record of a queue file, joined with what the defer log says
// about it. Addresses are stored as the queue file has them (unquoted).
type Recipient struct {
	Address     string
	OrigAddress string
	Status      RecipientStatus
	// Offset is the file offset of the record's type byte. Postfix's logs name recipients by
	// it, so it joins defer-log entries to records exactly, even for duplicate addresses.
	Offset int64

	// From the defer log; all "" when the recipient has no entry there.
	DelayReason string
	DSNStatus   string
	DiagText    string
	// Deferred is true when the defer log has an entry for this recipient.
	Deferred bool
}
