package metrics

// WaitForRuns blocks until the SQL-defined metric name of c has run n times, so that a test
// knows an interval loop's run ended without sleeping.
func WaitForRuns(c *SQLCollector, name string, n int64) {
	for _, m := range c.metrics {
		if m.def.Name != name {
			continue
		}
		m.mu.Lock()
		for m.runs < n {
			m.ran.Wait()
		}
		m.mu.Unlock()
		return
	}
	panic("no metric " + name)
}

// BreakDesc makes every run of the SQL-defined metric name of c panic (a nil descriptor), so
// that a test sees what a panic in a metric's goroutine costs.
func BreakDesc(c *SQLCollector, name string) {
	for _, m := range c.metrics {
		if m.def.Name == name {
			m.desc = nil
		}
	}
}
