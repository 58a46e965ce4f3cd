package maillog

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/mqsql/mqsql"
)

// FollowEvery is how often a follower looks for new lines: a delivery is a row within about
// this long.
const FollowEvery = 250 * time.Millisecond

// Follow reads path into the index as it grows until ctx ends, from where the last read
// stopped (the positions the one-shot reads also keep). A rename (logrotate's create) is
// noticed by the path's new inode: the old file is read to its end, then the new one from its
// start. A truncation (copytruncate) is noticed by a size below the position: the lines
// written between the last read and the copy are read from the rotated copy (path.1, known
// by its first line), then the truncated file from its start. warn receives errors, which
// never stop the follower.
func (r *Reader) Follow(ctx context.Context, path string, warn func(error)) {
	f := &follower{r: r, path: path, warn: warn}
	defer f.close()
	tick := time.NewTicker(FollowEvery)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		f.step(ctx)
		if time.Since(lastPrune) > pruneEvery {
			if err := r.Prune(ctx); err != nil && ctx.Err() == nil {
				warn(err)
			}
			lastPrune = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pruneEvery is how often a follower drops history past the retention.
const pruneEvery = 10 * time.Minute

// follower is Follow's state: the file open at path, and its inode.
type follower struct {
	r     *Reader
	path  string
	warn  func(error)
	lf    *logFile
	inode uint64
	st    Stats
}

// step reads what is new, handling a rotation first.
func (f *follower) step(ctx context.Context) {
	st, err := os.Stat(f.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			f.warn(err)
		}
		return // between a rename and the new file's creation
	}
	ino := st.Sys().(*syscall.Stat_t).Ino
	switch {
	case f.lf != nil && ino != f.inode: // renamed: finish the old file
		f.read(ctx)
		f.close()
	case f.lf != nil && st.Size() < f.lf.pos.offset: // truncated in place
		f.readRotatedCopy(ctx)
		f.close()
	}
	if f.lf == nil && !f.open(ctx, ino) {
		return
	}
	f.read(ctx)
}

// open opens path from its saved position.
func (f *follower) open(ctx context.Context, ino uint64) bool {
	lf, ok, err := openLog(ctx, f.r.DB, f.path)
	if err != nil {
		f.warn(err)
	}
	if !ok {
		return false
	}
	f.lf, f.inode = lf, ino
	return true
}

// read reads the open file's new complete lines.
func (f *follower) read(ctx context.Context) {
	p := f.r.Parser(mqsql.LogDating{Ref: f.r.Clock.Now().Add(time.Minute), Loc: f.r.loc()})
	if err := f.r.consume(ctx, f.lf, p, &f.st); err != nil && ctx.Err() == nil {
		f.warn(err)
	}
}

// readRotatedCopy reads path.1 on from the position its first line has, when it is the copy
// of the file that was truncated.
func (f *follower) readRotatedCopy(ctx context.Context) {
	if _, err := f.r.ReadFiles(ctx, []string{f.path + ".1"}); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.warn(err)
	}
}

func (f *follower) close() {
	if f.lf != nil {
		f.lf.Close()
		f.lf = nil
	}
}
