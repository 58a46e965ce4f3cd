package spoolgen

import (
	"fmt"
	"strings"
)

// longIDAlphabet is Postfix's base-52 alphabet for long queue IDs (global/safe_ultostr.c); the
// inode part uses its first 51 symbols, so it never contains the 'z' separator.
const longIDAlphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"

// ShortID builds a queue ID as Postfix does with enable_long_queue_ids = no: the
// microseconds as 5 upper-case hex digits, then the inode number in hex.
func ShortID(usec int64, inode uint64) string {
	return fmt.Sprintf("%05X%X", usec, inode)
}

// LongID builds a queue ID as Postfix does with enable_long_queue_ids = yes: the seconds in
// base 52 (at least 6 symbols), the microseconds in base 52 (exactly 4), 'z', and the inode
// number in base 51.
func LongID(sec, usec int64, inode uint64) string {
	var b strings.Builder
	b.WriteString(encode(uint64(sec), 52, 6))
	b.WriteString(encode(uint64(usec), 52, 4))
	b.WriteByte('z')
	b.WriteString(encode(inode, 51, 1))
	return b.String()
}

// encode writes v in the given base with Postfix's alphabet, most significant symbol first,
// padded with '0' to at least width symbols.
func encode(v uint64, base uint64, width int) string {
	var rev []byte
	for v > 0 || len(rev) < width {
		rev = append(rev, longIDAlphabet[v%base])
		v /= base
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return string(rev)
}

// hashKey is what Postfix hashes a queue ID by (global/mail_queue.c): the ID itself for short
// IDs, and for long IDs the microseconds before the last 'z' as 5 upper-case hex digits. The
// usec argument is what the ID was built from, so nothing needs decoding.
func hashKey(id string, long bool, usec int64) string {
	if !long {
		return id
	}
	return fmt.Sprintf("%05X", usec)
}

// hashDirs returns the subdirectories Postfix files a key under (util/dir_forest.c): one
// character per level, '_' past the end of the key.
func hashDirs(key string, depth int) string {
	var b strings.Builder
	for i := range depth {
		if i < len(key) {
			b.WriteByte(key[i])
		} else {
			b.WriteByte('_')
		}
		b.WriteByte('/')
	}
	return b.String()
}
