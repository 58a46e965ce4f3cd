package sendmail

// Sendmail's queue IDs (queue.c, assign_queueid) are 8 characters of time and sequence from
// the alphabet 0-9A-Za-z, then the process ID as %06d: 14 characters while pids stay below
// 1,000,000, up to 15 for Linux's largest pids, 7 digits more with debug 78.100. Sendmail
// before 8.12 wrote shorter ones, such as AAA06703 (letters, then the pid as %05d), and its
// queue runs and mailq still read them: gatherq takes every qf file whose name is shorter than
// MAXQFNAME (21, counting the NUL), so an ID has 1 to 18 characters (checked with Sendmail
// 8.17: mailq lists qfX and an 18-character ID, and refuses 19 as "too long").
const (
	maxIDLen = 18
)

// ValidQueueID reports whether id is a name Sendmail gives its messages: 1 to 18 letters and
// digits, as every Sendmail version writes them. Only such names may become a path, a
// backup's folder or a command's argument (sendmail -qI takes a substring, Executor checks
// that no other ID contains it). mailq would also list a qf whose name holds other bytes
// ("qf-a.b"); no Sendmail writes one, and mqsql leaves it alone.
func ValidQueueID(id string) bool {
	if len(id) < 1 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
