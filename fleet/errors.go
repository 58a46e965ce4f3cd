package fleet

import (
	"errors"
	"fmt"
)

// Reason says why a host did not answer; callers branch on it, never on error text.
type Reason int

const (
	// Unreachable: ssh could not connect or log in (ssh's own exit status 255).
	Unreachable Reason = iota + 1
	// NoMqsql: the host's shell found no mqsql command (exit status 127 or 126).
	NoMqsql
	// Incompatible: the host's mqsql did not understand the request (a usage error) or
	// answered in a form this mqsql cannot read: an older or newer version.
	Incompatible
	// Timeout: the host did not answer within Config.Timeout.
	Timeout
	// Failed: the host's mqsql ran and reported an error (the statement or its index).
	Failed
)

// String is the reason as people read it on stderr and in JSON.
func (r Reason) String() string {
	switch r {
	case Unreachable:
		return "unreachable"
	case NoMqsql:
		return "no mqsql"
	case Incompatible:
		return "incompatible mqsql"
	case Timeout:
		return "timeout"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("reason %d", int(r))
}

// HostError is why one host's answer is missing.
type HostError struct {
	Host   string
	Reason Reason
	Detail string // what ssh or the host's mqsql said, its last line
	Err    error  // the underlying error (an exit status, a decoding error), if any
}

// Error names the host, the reason and what was said, as stderr shows it.
func (e *HostError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s: %s", e.Host, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Host, e.Reason, e.Detail)
}

// Unwrap gives the exit status or decoding error behind the reason.
func (e *HostError) Unwrap() error { return e.Err }

// ReasonOf returns err's Reason, or 0 when err is no HostError.
func ReasonOf(err error) Reason {
	var he *HostError
	if errors.As(err, &he) {
		return he.Reason
	}
	return 0
}
