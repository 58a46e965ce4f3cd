package sqlfuncs

import (
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql"
	"modernc.org/sqlite"
)

// integer returns a SQL argument as an int64: integers as they are, reals truncated, text when
// it holds a number. ok is false for NULL; err names the function for anything else.
func integer(fn string, v driver.Value) (n int64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false, fmt.Errorf("%s: %v is not a number of seconds or bytes", fn, x)
		}
		return int64(x), true, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	}
	s, _ := text(v)
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return int64(f), true, nil
	}
	return 0, false, fmt.Errorf("%s: %q is not a number", fn, s)
}

// clockFuncs are the functions that read the clock: now(), age() and ago(). None lets SQLite
// reuse a result, since the clock moves under a query.
func clockFuncs(clock mqsql.Clock) []function {
	return []function{
		{"now", 0, false, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return clock.Now().Unix(), nil
		}},
		{"age", 1, false, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			return age(clock, args[0])
		}},
		{"ago", 1, false, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			return ago(clock, args[0])
		}},
	}
}

// age is age(unix_time): the seconds from then until now, as an integer. Mail arrival times
// are unix seconds, and "how long has this been queued" is the first question.
func age(clock mqsql.Clock, v driver.Value) (driver.Value, error) {
	t, ok, err := integer("age", v)
	if !ok {
		return nil, err
	}
	return clock.Now().Unix() - t, nil
}

// ago is ago(unix_time): the age as people say it, "3d4h", or "in 12m" for a time still to
// come (next_attempt of deferred mail).
func ago(clock mqsql.Clock, v driver.Value) (driver.Value, error) {
	t, ok, err := integer("ago", v)
	if !ok {
		return nil, err
	}
	d := clock.Now().Unix() - t
	if d < 0 {
		return "in " + mqsql.CompactDuration(-d), nil
	}
	return mqsql.CompactDuration(d), nil
}
