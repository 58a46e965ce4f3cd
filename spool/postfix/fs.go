package postfix

import (
	"os"

	"golang.org/x/sys/unix"
)

// The spool is read through internal/saferoot, which every driver shares: no path below the
// queue directory is resolved through a symbolic link.

// lstatAt returns the status of name inside the open directory d, not following links.
func lstatAt(d *os.File, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}
