package mqsql

import (
	"context"
	"fmt"
	"time"
)

// This file is the boundary between mqsql and one MTA's mail log. The queue says what has not
// left; the log says what did, where and why the rest is stuck. Each driver owns its log's
// grammar (which program logs what, how a line is dated, what a status word means) and turns
// one line into zero or more LogRecords; package maillog streams files through that parser
// into the deliveries and log_messages tables, which no MTA rule reaches.

// Delivery statuses: the deliveries.status values every driver maps its MTA's words to.
const (
	StatusSent     = "sent"
	StatusDeferred = "deferred"
	StatusBounced  = "bounced"
	StatusExpired  = "expired"
)

// LogRecordKind says which part of a LogRecord a line filled.
type LogRecordKind uint8

// The kinds of LogRecord.
const (
	// LogDelivery is one delivery attempt's result: a deliveries row.
	LogDelivery LogRecordKind = iota + 1
	// LogMessageSeen is something the log says about a message as a whole (its sender, its
	// client, its removal): merged into the message's log_messages row.
	LogMessageSeen
)

// Delivery is one attempt's result as the MTA logged it (a deliveries row). Empty strings
// are NULL in the table; Delay < 0 is NULL.
type Delivery struct {
	Recipient     string
	OrigRecipient string
	Relay         string
	Delay         float64 // seconds
	DSN           string
	Status        string // one of the Status constants
	Response      string // the text the MTA logged for it
}

// LogMessage is what one line says about a message as a whole; fields it does not name are
// left unknown (HasSender false, Size and Nrcpt -1, strings empty) so that the lines of one
// message, merged, fill its log_messages row.
type LogMessage struct {
	Sender        string // envelope sender, "" for the null sender when HasSender
	HasSender     bool
	Size          int64
	Nrcpt         int64
	ClientAddress string
	SASLUsername  string
	MessageID     string
	Removed       bool // the message left the queue at Time
}

// LogRecord is one fact a log line states about a queue ID at a time.
type LogRecord struct {
	Kind     LogRecordKind
	Time     float64 // unix seconds, fractional where the log has it
	QueueID  string
	Host     string // the host the line names (syslog's host field), "" when none
	Instance string // the MTA instance that logged it (Postfix's syslog_name), "" when none
	Delivery Delivery
	Message  LogMessage
}

// NewLogMessage is a LogMessageSeen record with every field unknown.
func NewLogMessage(t float64, id string) LogRecord {
	return LogRecord{Kind: LogMessageSeen, Time: t, QueueID: id, Message: LogMessage{Size: -1, Nrcpt: -1}}
}

// LogParser turns one line of an MTA's log into records. Parse appends the records of line
// (without its newline) to out and returns it. A line of another program, or one that states
// nothing the tables keep, adds nothing and returns no error; a line that is the MTA's but
// cannot be read returns a *LogLineError, which the reader counts and keeps out.
type LogParser interface {
	Parse(line []byte, out []LogRecord) ([]LogRecord, error)
}

// LogDating is what a parser needs to date lines whose timestamps are incomplete: the
// classic syslog stamp ("Dec  7 23:16:10") has no year and no zone. Ref is a time no line of
// the file is later than (its mtime, or the clock for a live file): a line's year is Ref's,
// or the one before when that would put the line more than a day after Ref. Loc is the zone
// of stamps that carry none (nil: UTC).
type LogDating struct {
	Ref time.Time
	Loc *time.Location
}

// LogReader is a Driver that can read its MTA's log: an optional capability, asserted on the
// Driver, since where the log is belongs to the MTA's configuration, not to a queue.
type LogReader interface {
	// LogFiles names the log files the MTA's configuration declares (Postfix's
	// maillog_file, Exim's log_file_path), none when it declares none (syslog) or cannot
	// be asked.
	LogFiles(ctx context.Context) []string
	// LogParser returns a parser for one file's lines.
	LogParser(d LogDating) LogParser
}

// LogLineError reports a line that is the MTA's but does not read as its grammar says.
type LogLineError struct {
	Reason string
}

func (e *LogLineError) Error() string { return fmt.Sprintf("unreadable log line: %s", e.Reason) }

// YearFor returns the time of a stamp without a year (month, day, clock) in d's zone, dated
// as LogDating says.
func (d LogDating) YearFor(month time.Month, day, hour, min, sec, nsec int) time.Time {
	loc := d.Loc
	if loc == nil {
		loc = time.UTC
	}
	ref := d.Ref.In(loc)
	t := time.Date(ref.Year(), month, day, hour, min, sec, nsec, loc)
	if t.After(ref.Add(24 * time.Hour)) {
		t = time.Date(ref.Year()-1, month, day, hour, min, sec, nsec, loc)
	}
	return t
}
