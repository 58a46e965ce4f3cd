package sendmail

// Sendmail's queue IDs (queue.c, assign_queueid) are 8 characters of time and sequence from
// the alphabet 0-9A-Za-z, then the process ID as %06d: 14 characters while pids stay below
// 1,000,000, up to 15 for Linux's largest pids, 7 digits more with debug 78.100. MAXQFNAME
// (21) minus the two-letter prefix bounds the whole at 19.
const (
	idStampLen = 8
	minIDLen   = idStampLen + 6
	maxIDLen   = 19
)

// ValidQueueID reports whether id is a name Sendmail gives its messages: the only names that
// may become a path or a command's argument (sendmail -qI takes a substring, so an ID with
// anything else in it could select other mail).
func ValidQueueID(id string) bool {
	if len(id) < minIDLen || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		digit := c >= '0' && c <= '9'
		letter := (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if !digit && !(letter && i < idStampLen) {
			return false
		}
	}
	return true
}
