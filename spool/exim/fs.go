package exim

import (
	"fmt"
	"io"
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

// maxFile bounds what readFile reads of one file: a -H holds the headers, which Exim limits
// to header_maxsize (1 MiB by default); a msglog grows with every attempt.
const maxFile = 64 << 20

// readFile reads the regular file rel whole, with its status as opened.
func (r *root) readFile(rel string) ([]byte, unix.Stat_t, error) {
	var st unix.Stat_t
	f, err := r.open(rel, false)
	if err != nil {
		return nil, st, err
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, st, fmt.Errorf("stat %s: %w", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, st, fmt.Errorf("read %s: not a regular file", rel)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return nil, st, fmt.Errorf("read %s: %w", rel, err)
	}
	return data, st, nil
}
