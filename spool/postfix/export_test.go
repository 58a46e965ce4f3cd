package postfix

// IsRelPath exposes Config.isRelPath to the external tests.
func IsRelPath(c Config, queue, id, path string) bool { return c.isRelPath(queue, id, path) }
