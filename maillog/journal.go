package maillog

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/mqsql/mqsql"
)

// Journalctl is the journal's reader, for a host whose syslog is journald and keeps no mail
// log file (a test names a script of its own).
var Journalctl = "journalctl"

// journalHead is the journal's key in log_positions; its path column holds the cursor of the
// last entry read.
const journalHead = "journal"

// ReadJournal reads the mail facility's entries of the journal that came after the last read
// (journalctl --after-cursor), in one transaction that saves the new cursor with the rows.
func (r *Reader) ReadJournal(ctx context.Context) (Stats, error) {
	var st Stats
	args := []string{"-q", "--no-pager", "-o", "short-iso-precise", "--show-cursor", "SYSLOG_FACILITY=2"}
	var cursor string
	err := r.DB.QueryRowContext(ctx, `SELECT path FROM log_positions WHERE head = ?`, journalHead).Scan(&cursor)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("history: journal position: %w", err)
	}
	if cursor != "" {
		args = append(args, "--after-cursor="+cursor)
	}
	cmd := exec.CommandContext(ctx, Journalctl, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return st, fmt.Errorf("history: journalctl: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return st, fmt.Errorf("history: journalctl: %w", err)
	}
	tail := &tailKeeper{r: out, last: cursor}
	lf := &logFile{r: bufio.NewReaderSize(tail, 256<<10), whole: true, tail: tail, pos: position{head: journalHead}}
	p := r.Parser(mqsql.LogDating{Ref: r.Clock.Now().Add(time.Minute), Loc: r.loc()})
	cerr := r.consume(ctx, lf, p, &st)
	io.Copy(io.Discard, out)
	if werr := cmd.Wait(); werr != nil && cerr == nil {
		cerr = fmt.Errorf("history: journalctl: %w", werr)
	}
	return st, errors.Join(cerr, r.Prune(ctx))
}

// tailKeeper passes a stream through and keeps its last line of the form "-- cursor: X",
// which journalctl --show-cursor prints last.
type tailKeeper struct {
	r    io.Reader
	buf  []byte
	last string
}

func (t *tailKeeper) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	if i := bytes.LastIndex(t.buf, []byte("-- cursor: ")); i >= 0 {
		if end := bytes.IndexByte(t.buf[i:], '\n'); end > 0 {
			t.last = string(t.buf[i+len("-- cursor: ") : i+end])
		}
	}
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-1024:]...)
	}
	return n, err
}

// cursor is the cursor of the last entry read, or the one the read started after.
func (t *tailKeeper) cursor() string { return t.last }
