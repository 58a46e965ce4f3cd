package sqlfuncs

import (
	"bytes"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mqsql/mqsql"
	"modernc.org/sqlite"
)

// Limits on what one call returns, so that a query over every message of a spam run cannot
// pull gigabytes into memory: Postfix's header_size_limit is 100 KiB per header.
const (
	// BodyLimit is how much of a body body() returns.
	BodyLimit = 64 << 10
	// HeaderLimit is how much text header() returns for all fields of one name together.
	HeaderLimit = 64 << 10
)

// Source is the spool that header(), body() and postcat() read messages from. Each index owns
// one for its database, so two indexes in one process (a test's, or two spools') never read
// each other's mail, and there is no process-wide state: the index sets the spool once it knows
// which one it mirrors. A Source is safe for concurrent use; the zero value has no spool.
type Source struct {
	mu sync.RWMutex
	sp mqsql.Spool
}

// Set makes the functions read from sp and returns the spool they read before, which no call
// uses any more when Set returns, so the caller may close it.
func (s *Source) Set(sp mqsql.Spool) mqsql.Spool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.sp
	s.sp = sp
	return old
}

// with runs read with the spool, which stays set until read returns; NULL without calling it
// when id is no name the spool's MTA gives a message (a file in corrupt/ can be named
// anything), which must never become a path.
func (s *Source) with(fn, id string, read func(mqsql.Content) (driver.Value, error)) (driver.Value, error) {
	if s != nil {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	if s == nil || s.sp == nil {
		return nil, fmt.Errorf("%s(): this index has no spool to read messages from", fn)
	}
	if !s.sp.ValidQueueID(id) {
		return nil, nil
	}
	return read(s.sp)
}

// gone reports whether err means the message is not there to read: it left the queue, or the
// ID is not a queue ID (a file in corrupt/ can be named anything). Such calls return NULL, so
// that a query over many messages is not stopped by one that was delivered meanwhile.
func gone(err error) bool {
	return errors.Is(err, mqsql.ErrNoMessage)
}

// damaged reports whether err is about the file's content, in which case what was read before
// the damage is still the answer.
func damaged(err error) bool {
	return errors.Is(err, mqsql.ErrDamaged)
}

// headerFunc is header(queue_id, name): every field called name (case does not matter) in the
// message's primary header, unfolded and RFC 2047 decoded, joined by newlines in header order;
// NULL when there is none or the message is gone.
func (s *Source) headerFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	id, ok1 := text(args[0])
	name, ok2 := text(args[1])
	if !ok1 || !ok2 {
		return nil, nil
	}
	name = strings.TrimSpace(name)
	return s.with("header", id, func(sp mqsql.Content) (driver.Value, error) {
		value, found, err := sp.Header(id, name, HeaderLimit)
		if gone(err) {
			return nil, nil
		}
		if err != nil && !damaged(err) {
			return nil, fmt.Errorf("header(%q): %w", id, err)
		}
		if !found {
			return nil, nil
		}
		return value, nil
	})
}

// bodyFunc is body(queue_id): the first BodyLimit bytes of the message body as stored (MIME
// parts and transfer encodings as they are); NULL when the message is gone.
func (s *Source) bodyFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	id, ok := text(args[0])
	if !ok {
		return nil, nil
	}
	return s.with("body", id, func(sp mqsql.Content) (driver.Value, error) {
		b, _, err := sp.Body(id, BodyLimit)
		if gone(err) {
			return nil, nil
		}
		if err != nil && !damaged(err) {
			return nil, fmt.Errorf("body(%q): %w", id, err)
		}
		return string(b), nil
	})
}

// postcatFunc is postcat(queue_id [, options]): the message as `postcat -q` prints it, with
// options "-e", "-h", "-b" or combinations such as "-hb" choosing the parts; NULL when the
// message is gone. The .cat command shows it on the terminal.
func (s *Source) postcatFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, errors.New("postcat(queue_id [, options]): wrong number of arguments")
	}
	id, ok := text(args[0])
	if !ok {
		return nil, nil
	}
	var show mqsql.ContentParts
	if len(args) == 2 {
		opts, _ := text(args[1])
		var err error
		if show, err = ParsePostcatOptions(opts); err != nil {
			return nil, err
		}
	}
	return s.with("postcat", id, func(sp mqsql.Content) (driver.Value, error) {
		var b bytes.Buffer
		err := sp.Postcat(&b, id, show)
		if gone(err) {
			return nil, nil
		}
		if err != nil && !damaged(err) {
			return nil, fmt.Errorf("postcat(%q): %w", id, err)
		}
		return b.String(), nil
	})
}

// ParsePostcatOptions reads postcat's part options, "-e", "-h", "-b", together ("-hb") or
// apart ("-h -b"), with or without dashes.
func ParsePostcatOptions(opts string) (mqsql.ContentParts, error) {
	var show mqsql.ContentParts
	for _, c := range strings.Join(strings.Fields(opts), "") {
		switch c {
		case '-':
		case 'e':
			show.Envelope = true
		case 'h':
			show.Header = true
		case 'b':
			show.Body = true
		default:
			return show, fmt.Errorf("postcat: unknown option %q (use -e for the envelope, -h for the header, -b for the body)", c)
		}
	}
	return show, nil
}
