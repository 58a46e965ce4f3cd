package sendmail

// ForgetLocks drops the cached snapshot of /proc/locks, so a test sees a lock it just
// released as released.
func (s *Spool) ForgetLocks() {
	s.locks.mu.Lock()
	s.locks.set = nil
	s.locks.mu.Unlock()
}
