package exim

import (
	"errors"
	"fmt"
	"io"

	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// maxFile bounds what readFile reads of one file: a -H holds the headers, which Exim limits
// to header_maxsize (1 MiB by default); a msglog grows with every attempt.
const maxFile = 64 << 20

// readFile reads the regular file rel below r whole, with its status as opened; the spool is
// read through internal/saferoot, which every driver shares.
// errNotRegular is what readFile's error matches for a path that is no regular file (a FIFO
// or device planted in the spool): not the MTA's file, and nothing to read.
var errNotRegular = errors.New("not a regular file")

func readFile(r *saferoot.Root, rel string) ([]byte, unix.Stat_t, error) {
	var st unix.Stat_t
	f, err := r.Open(rel, false)
	if err != nil {
		return nil, st, err
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, st, fmt.Errorf("stat %s: %w", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, st, fmt.Errorf("read %s: %w", rel, errNotRegular)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return nil, st, fmt.Errorf("read %s: %w", rel, err)
	}
	return data, st, nil
}
