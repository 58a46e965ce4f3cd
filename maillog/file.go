package maillog

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// position is how far a file was read: its identity (head), where, and the lines read since
// the last saved position.
type position struct {
	head, path       string
	offset           int64
	newLines, newBad int64
}

// maxLine bounds a line: a longer one is counted unreadable and skipped to its end, so that a
// file without newlines cannot take the memory.
const maxLine = 64 << 10

// logFile is one log file opened for reading from its saved position.
type logFile struct {
	f     *os.File
	r     *bufio.Reader
	pos   position
	mtime time.Time
	// whole is set for a stream read in one transaction (the journal, whose position is
	// known only at its end); tail then keeps the end of what was read.
	whole bool
	tail  *tailKeeper
}

// openLog opens path (gzip'd when it ends in .gz) without blocking on a FIFO, refuses
// anything but a regular file, and finds where the last run stopped in it. ok is false for a
// file with no complete first line yet: nothing to read.
func openLog(ctx context.Context, db *sql.DB, path string) (lf *logFile, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, false, fmt.Errorf("history: %w", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("history: %s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, false, err
	}
	lf = &logFile{f: f, mtime: st.ModTime(), pos: position{path: path}}
	if ok, err = lf.start(ctx, db); err != nil || !ok {
		f.Close()
		return nil, false, err
	}
	return lf, true, nil
}

// start reads the first line for the file's identity, then positions the reader where the
// saved position of that identity says (the start, for a file never read).
func (lf *logFile) start(ctx context.Context, db *sql.DB) (bool, error) {
	r, err := lf.content()
	if err != nil {
		return false, err
	}
	br := bufio.NewReaderSize(r, 256<<10)
	first, err := br.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return false, nil // no complete first line yet
	}
	sum := sha256.Sum256(first)
	lf.pos.head = hex.EncodeToString(sum[:16])
	var saved int64
	err = db.QueryRowContext(ctx, `SELECT offset FROM log_positions WHERE head = ?`, lf.pos.head).Scan(&saved)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("history: read position of %s: %w", lf.pos.path, err)
	}
	if r, err = lf.content(); err != nil {
		return false, err
	}
	if saved > 0 {
		if _, err := io.CopyN(io.Discard, r, saved); err != nil {
			return false, nil // shorter than what was read: nothing new
		}
	}
	lf.pos.offset = saved
	lf.r = bufio.NewReaderSize(r, 256<<10)
	return true, nil
}

// content rewinds the file and returns its content, uncompressed.
func (lf *logFile) content() (io.Reader, error) {
	if _, err := lf.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("history: %s: %w", lf.pos.path, err)
	}
	if !strings.HasSuffix(lf.pos.path, ".gz") {
		return lf.f, nil
	}
	z, err := gzip.NewReader(lf.f)
	if err != nil {
		return nil, fmt.Errorf("history: %s: %w", lf.pos.path, err)
	}
	return z, nil
}

// next returns the next complete line without its newline; io.EOF at the end of what is
// complete (a last line still being written is left for the next read). long is set for a
// line over maxLine, skipped.
func (lf *logFile) next() (line []byte, long bool, err error) {
	line, err = lf.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || (err == nil && len(line) > maxLine) {
		n := int64(len(line))
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = lf.r.ReadSlice('\n')
			n += int64(len(line))
		}
		if err != nil {
			return nil, false, io.EOF // the long line is not complete yet
		}
		lf.pos.offset += n
		return nil, true, nil
	}
	if err != nil {
		lf.unread()
		return nil, false, io.EOF
	}
	lf.pos.offset += int64(len(line))
	return line[:len(line)-1], false, nil
}

// unread puts the reader of a plain file back at the end of the last complete line, so that
// a line still being written is read whole once it is (a follower reads on from here).
func (lf *logFile) unread() {
	if lf.f == nil || strings.HasSuffix(lf.pos.path, ".gz") {
		return
	}
	if _, err := lf.f.Seek(lf.pos.offset, io.SeekStart); err == nil {
		lf.r.Reset(lf.f)
	}
}

// Close closes the file.
func (lf *logFile) Close() error {
	if lf.f == nil {
		return nil
	}
	return lf.f.Close()
}
