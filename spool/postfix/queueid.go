package postfix

import (
	"fmt"
	"strings"
)

// The 52-symbol alphabet of long queue IDs (global/safe_ultostr.c): digits and consonants, no
// vowels. The inode part uses the first 51 symbols, so it never contains the 'z' separator.
const longIDAlphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"

// ValidQueueID reports whether name passes Postfix's own test for a queue file name
// (mail_queue_id_ok): 1 to 255 characters from [A-Za-z0-9_]. Nothing else may reach a path or a
// command line as a queue ID; it also rejects the temporary names cleanup creates files under.
func ValidQueueID(name string) bool {
	if len(name) == 0 || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// longIDSeparator returns the index of the 'z' that ends the time part of a long queue ID, or
// -1 for a short ID. Postfix takes the last 'z' and requires it at index 10 or later.
func longIDSeparator(id string) int {
	i := strings.LastIndexByte(id, 'z')
	if i < 10 {
		return -1
	}
	return i
}

// IsLongQueueID reports whether id has the long format (enable_long_queue_ids = yes). Long IDs
// carry the creation second and do not repeat on one host; short ones can be reused quickly.
func IsLongQueueID(id string) bool { return longIDSeparator(id) >= 0 }

// hashKey returns the characters Postfix hashes a queue ID by: the ID itself for short IDs,
// and for long IDs the microseconds encoded before the separator, as 5 upper-case hex digits.
func hashKey(id string) string {
	sep := longIDSeparator(id)
	if sep < 0 {
		return id
	}
	var usec int
	for _, c := range id[sep-4 : sep] {
		v := strings.IndexRune(longIDAlphabet, c)
		if v < 0 {
			return id
		}
		usec = usec*52 + v
	}
	return fmt.Sprintf("%05X", usec)
}

// hashDirs returns the subdirectory names Postfix files id under at the given depth
// (util/dir_forest.c): one character of the hash key per level, '_' past its end.
func hashDirs(id string, depth int) []string {
	key := hashKey(id)
	dirs := make([]string, depth)
	for i := range dirs {
		if i < len(key) {
			dirs[i] = key[i : i+1]
		} else {
			dirs[i] = "_"
		}
	}
	return dirs
}
