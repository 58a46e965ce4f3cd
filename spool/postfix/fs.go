package postfix

import (
	"os"

	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// root is the queue directory opened through internal/saferoot, which every driver shares: no
// path below it is resolved through a symbolic link.
type root struct{ *saferoot.Root }

// errSymlink reports that a path inside the queue went through a symbolic link.
var errSymlink = saferoot.ErrSymlink

func openRoot(dir string) (*root, error) {
	r, err := saferoot.Open(dir)
	if err != nil {
		return nil, err
	}
	return &root{r}, nil
}

func (r *root) close() error { return r.Close() }

// open opens rel read-only (a directory when dir is set).
func (r *root) open(rel string, dir bool) (*os.File, error) { return r.Open(rel, dir) }

// openFD opens rel read-only (a directory when dir is set) as a bare descriptor.
func (r *root) openFD(rel string, dir bool) (int, error) {
	return r.OpenFD(rel, saferoot.ReadOnly(dir))
}

// lstat returns the status of rel without following a link in any component.
func (r *root) lstat(rel string) (unix.Stat_t, error) { return r.Lstat(rel) }

// lstat returns the status of name inside the open directory d, not following links.
func lstatAt(d *os.File, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}
