// Package sqlfuncs is the SQL vocabulary mqsql adds to SQLite for mail: functions that take
// addresses apart and match patterns, tell ages and sizes the way people say them, read any
// header or the body of a message from the spool on demand, and bucket the queue exactly as
// Postfix's qshape does, so questions about the queue read like the questions admins ask.
package sqlfuncs

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"sync"

	"github.com/mqsql/mqsql"
	"modernc.org/sqlite"
)

// Register adds mqsql's functions to d. Functions reach only connections d opens afterwards,
// so tests can build a fresh driver each. header(), body() and postcat() read messages through
// src, the spool of the index d serves; with a nil src, or one not yet given a spool, they fail
// with an error that says so. now(), age() and ago() read clock (nil: the system clock).
func Register(d *sqlite.Driver, src *Source, clock mqsql.Clock) error {
	fns := []function{
		{"domain", 1, true, domainFunc},
		{"localpart", 1, true, localPartFunc},
		{"regexp", 2, true, newRegexpFunc()},
		{"human_size", 1, true, humanSizeFunc},
		{"qshape_bucket", 1, true, qshapeBucketFunc},
		{"qshape_domain", 1, true, qshapeDomainFunc},
		// The spool changes under a query: never let SQLite reuse a result.
		{"header", 2, false, src.headerFunc},
		{"body", 1, false, src.bodyFunc},
		{"postcat", -1, false, src.postcatFunc},
	}
	for _, f := range append(fns, clockFuncs(clock)...) {
		impl := &sqlite.FunctionImpl{NArgs: f.n, Deterministic: f.deterministic, Scalar: f.fn}
		if err := d.RegisterFunction(f.name, impl); err != nil {
			return fmt.Errorf("register %s: %w", f.name, err)
		}
	}
	return nil
}

// function is one SQL function: its name, its number of arguments (-1: any), whether SQLite
// may reuse its result for the same arguments, and its Go implementation.
type function struct {
	name          string
	n             int32
	deterministic bool
	fn            func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
}

// Names lists the SQL functions Register adds, for completion and help.
var Names = []string{"domain", "localpart", "regexp", "now", "age", "ago", "human_size", "header", "body",
	"postcat", "qshape_bucket", "qshape_domain"}

// text returns a SQL argument as a string; ok is false for NULL.
func text(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	default:
		return fmt.Sprint(x), true
	}
}

// domainFunc is domain(address): the lower-cased part after the last '@'.
func domainFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s, ok := text(args[0])
	if !ok {
		return nil, nil
	}
	return mqsql.Domain(s), nil
}

// localPartFunc is localpart(address): the part before the last '@'.
func localPartFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s, ok := text(args[0])
	if !ok {
		return nil, nil
	}
	return mqsql.LocalPart(s), nil
}

// newRegexpFunc returns regexp(pattern, text), which SQLite calls for "text REGEXP pattern".
// Compiled patterns are cached: a WHERE clause calls it once per row with the same pattern.
func newRegexpFunc() func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	var mu sync.Mutex
	cache := map[string]*regexp.Regexp{}
	return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		pat, ok1 := text(args[0])
		s, ok2 := text(args[1])
		if !ok1 || !ok2 {
			return nil, nil
		}
		mu.Lock()
		re, ok := cache[pat]
		if !ok {
			var err error
			if re, err = regexp.Compile(pat); err != nil {
				mu.Unlock()
				return nil, fmt.Errorf("regexp %q: %w", pat, err)
			}
			if len(cache) > 100 {
				clear(cache)
			}
			cache[pat] = re
		}
		mu.Unlock()
		if re.MatchString(s) {
			return int64(1), nil
		}
		return int64(0), nil
	}
}
