package maillog

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mqsql/mqsql"
)

// DefaultRetention is how long history is kept unless --history-days says otherwise.
const DefaultRetention = 7 * 24 * time.Hour

// batchRecords is how many records one transaction writes: large enough that the commit's
// cost vanishes among the inserts, small enough that a watcher's readers never wait long.
const batchRecords = 20000

// Reader reads log files into an index's history tables.
type Reader struct {
	DB *sql.DB
	// Parser is the driver's (mqsql.LogReader.LogParser).
	Parser func(mqsql.LogDating) mqsql.LogParser
	// Loc is the zone of stamps without one (nil: the local zone).
	Loc *time.Location
	// Clock dates the retention cutoff and the positions (nil: the system clock).
	Clock mqsql.Clock
	// Retention is how old a record may be and still be kept (0: DefaultRetention).
	Retention time.Duration
	// Batch is how many records one transaction writes (0: batchRecords).
	Batch int
}

// Stats counts what a read did.
type Stats struct {
	Files      int
	Lines      int64
	Records    int64
	Unreadable int64 // lines of the MTA's that did not parse, kept out
	Long       int64 // lines over the length limit, skipped (counted in Unreadable too)
}

// ReadFiles reads each file from where the last read stopped, in the order given (oldest
// first), then drops history older than the retention. A file that cannot be opened is an
// error after the others were read: it was asked for, and is never silently skipped.
func (r *Reader) ReadFiles(ctx context.Context, paths []string) (Stats, error) {
	var st Stats
	var errs []error
	for _, p := range paths {
		if err := r.readFile(ctx, p, &st); err != nil {
			if ctx.Err() != nil {
				return st, err
			}
			errs = append(errs, err)
		}
	}
	if err := r.Prune(ctx); err != nil {
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// readFile reads one file on from its saved position.
func (r *Reader) readFile(ctx context.Context, path string, st *Stats) error {
	lf, ok, err := openLog(ctx, r.DB, path)
	if err != nil || !ok {
		return err
	}
	defer lf.Close()
	st.Files++
	p := r.Parser(mqsql.LogDating{Ref: lf.mtime, Loc: r.loc()})
	return r.consume(ctx, lf, p, st)
}

// consume reads lf's complete lines through p into batches.
func (r *Reader) consume(ctx context.Context, lf *logFile, p mqsql.LogParser, st *Stats) error {
	b, err := begin(ctx, r.DB, r.cutoff())
	if err != nil {
		return err
	}
	var recs []mqsql.LogRecord
	for {
		line, long, err := lf.next()
		if errors.Is(err, io.EOF) {
			break
		}
		lf.pos.newLines++
		if long {
			lf.pos.newBad++
			st.Long++
			continue
		}
		recs, err = p.Parse(line, recs[:0])
		var lerr *mqsql.LogLineError
		if errors.As(err, &lerr) {
			lf.pos.newBad++
		}
		for i := range recs {
			if err := b.add(ctx, &recs[i]); err != nil {
				b.abort()
				return err
			}
		}
		if b.records >= cmp.Or(r.Batch, batchRecords) && !lf.whole {
			if err := r.flush(ctx, b, lf, st); err != nil {
				return err
			}
			if b, err = begin(ctx, r.DB, r.cutoff()); err != nil {
				return err
			}
		}
	}
	return r.flush(ctx, b, lf, st)
}

// flush commits b with lf's position and counts it.
func (r *Reader) flush(ctx context.Context, b *batch, lf *logFile, st *Stats) error {
	if err := ctx.Err(); err != nil {
		b.abort()
		return err
	}
	if lf.tail != nil {
		lf.pos.path = lf.tail.cursor()
	}
	if err := b.commit(ctx, lf.pos, r.now()); err != nil {
		return err
	}
	st.Lines += lf.pos.newLines
	st.Unreadable += lf.pos.newBad
	st.Records += int64(b.records)
	lf.pos.newLines, lf.pos.newBad = 0, 0
	return nil
}

// Prune drops deliveries older than the retention, and the log_messages rows of messages
// removed (or, never removed, first seen) before it.
func (r *Reader) Prune(ctx context.Context) error {
	c := r.cutoff()
	if _, err := r.DB.ExecContext(ctx, `DELETE FROM deliveries WHERE time < ?`, c); err != nil {
		return fmt.Errorf("history: prune deliveries: %w", err)
	}
	if _, err := r.DB.ExecContext(ctx, `DELETE FROM log_messages WHERE coalesce(removed, first_seen) < ?`, c); err != nil {
		return fmt.Errorf("history: prune log_messages: %w", err)
	}
	return nil
}

// loc is the zone of stamps without one.
func (r *Reader) loc() *time.Location {
	if r.Loc == nil {
		return time.Local
	}
	return r.Loc
}

func (r *Reader) now() float64 {
	t := r.Clock.Now()
	return float64(t.UnixNano()) / 1e9
}

func (r *Reader) cutoff() float64 {
	ret := r.Retention
	if ret <= 0 {
		ret = DefaultRetention
	}
	return r.now() - ret.Seconds()
}
