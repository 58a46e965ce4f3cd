// Package sqlfuncs is the SQL vocabulary mqsql adds to SQLite for mail: functions that take
// addresses apart and match patterns, so questions about the queue read like the questions
// admins ask.
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
// so tests can build a fresh driver each.
func Register(d *sqlite.Driver) error {
	fns := []struct {
		name string
		n    int32
		fn   func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
	}{
		{"domain", 1, domainFunc},
		{"localpart", 1, localPartFunc},
		{"regexp", 2, newRegexpFunc()},
	}
	for _, f := range fns {
		if err := d.RegisterDeterministicScalarFunction(f.name, f.n, f.fn); err != nil {
			return fmt.Errorf("register %s: %w", f.name, err)
		}
	}
	return nil
}

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
