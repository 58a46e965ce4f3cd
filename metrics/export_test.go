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
