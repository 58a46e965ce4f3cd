package mqsql

import "time"

// Clock tells mqsql what time it is. Every date a user sees or a query compares with (age(),
// ago(), now(), the qshape views' buckets, plan previews, audit records, event retention)
// comes from one Clock, so that a test can fix the day and a golden file never ages. Timers
// that measure durations (debouncing, timeouts) use Go's monotonic clock instead.
type Clock func() time.Time

// Now returns the clock's time; the zero Clock is the system clock.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// FixedClock is a clock stopped at t, for tests and for reproducing a report of a given time.
func FixedClock(t time.Time) Clock {
	return func() time.Time { return t }
}
