package sendmail

// ForgetLocks drops the cached snapshot of /proc/locks, so a test sees a lock it just
// released as released.
func (s *Spool) ForgetLocks() {
	s.locks.mu.Lock()
	s.locks.set = nil
	s.locks.mu.Unlock()
}

// UseLocksFile makes the spool read its locks from path instead of /proc/locks.
func (s *Spool) UseLocksFile(path string) {
	s.locks.mu.Lock()
	s.locks.path, s.locks.set = path, nil
	s.locks.mu.Unlock()
}
