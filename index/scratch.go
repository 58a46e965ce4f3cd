package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mqsql/mqsql/internal/safefile"
)

// scratchCache is each connection's page cache for a temporary index (SQLite's cache_size in
// KiB when negative): what the index costs in this process's memory, the rest of its pages
// staying in the kernel's page cache, which gives them back under pressure.
const scratchCache = "-16384"

// scratchParent is where temporary indexes go when TMPDIR is not set: /var/tmp is on disk by
// the file-system hierarchy standard, where /tmp is often a tmpfs, whose pages would be RAM
// again.
const scratchParent = "/var/tmp"

// OpenScratch opens an index in a new temporary file that Close removes: an index like the one
// in memory, for one run, whose pages live in the kernel's page cache rather than this
// process's heap. A queue of a million messages thus costs a few hundred megabytes of RSS
// instead of gigabytes (the memory a mail server under a spam run needs for mail), and is not
// bounded by memdb's 2 GiB. The file is never fsynced: it can always be rebuilt. The
// directory is private (0700), beside which SQLite keeps its -wal and -shm files; it is made
// in TMPDIR (else /var/tmp) only once that folder is checked (safefile.OpenDir: the caller's
// or root's, or sticky like /tmp), so that root with TMPDIR in a user's tree is refused.
func OpenScratch(ctx context.Context, opts ...Option) (*Index, error) {
	parent := os.Getenv("TMPDIR")
	if parent == "" {
		parent = scratchParent
	}
	pd, err := safefile.OpenDir(parent)
	if err != nil {
		return nil, fmt.Errorf("temporary index (TMPDIR): %w", err)
	}
	d, err := pd.MkdirTemp("mqsql-index-")
	pd.Close()
	if err != nil {
		return nil, fmt.Errorf("temporary index: %w", err)
	}
	dir := d.Path()
	d.Close()
	ix, err := Open(ctx, filepath.Join(dir, "index.db"), append(opts, func(ix *Index) { ix.scratch, ix.private = dir, true })...)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return ix, nil
}

// Temporary reports whether the index is one OpenScratch made.
func (ix *Index) Temporary() bool { return ix.scratch != "" }
