package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/maillog"
)

// historyFlags say which mail log fills deliveries and log_messages, and for how long.
type historyFlags struct {
	logs    logList // --log, repeatable
	rotated int     // --log-history: rotated files read before each --log file
	days    int     // --history-days; 0 reads no log
}

// logList is a repeatable string flag.
type logList []string

func (l *logList) String() string     { return strings.Join(*l, ",") }
func (l *logList) Set(v string) error { *l = append(*l, v); return nil }

// addHistoryFlags declares the mail log flags; mqsql and mqsql watch share them.
func addHistoryFlags(fs *flag.FlagSet, h *historyFlags) {
	fs.Var(&h.logs, "log", "mail log FILE (or glob, oldest first by mtime) read into deliveries and log_messages; repeatable (default: the MTA's own log file, else "+maillog.DefaultLog+", for the queue the MTA here runs on)")
	fs.IntVar(&h.rotated, "log-history", 0, "also read the N newest rotated files of each log (FILE.1 ... FILE.N, or .N.gz), oldest first; never read unless asked")
	fs.IntVar(&h.days, "history-days", defaultHistoryDays(), "days of delivery history kept; 0 reads no mail log (default: $"+historyDaysEnv+", else 7)")
}

// historyDaysEnv names the environment variable that sets --history-days' default, so that a
// host (or a test suite sharing one busy mail log) can turn the history off or change its
// length for every run at once.
const historyDaysEnv = "MQSQL_HISTORY_DAYS"

// defaultHistoryDays is $MQSQL_HISTORY_DAYS when it is a number, else the retention's.
func defaultHistoryDays() int {
	if n, err := strconv.Atoi(os.Getenv(historyDaysEnv)); err == nil && n >= 0 {
		return n
	}
	return int(maillog.DefaultRetention / (24 * time.Hour))
}

// readHistory reads the mail log into the index after the spool: from where the last run
// stopped, each new line once. A log that cannot be read is a warning: the queue's rows are
// still good.
func readHistory(ctx context.Context, h historyFlags, driver mqsql.Driver, ix *index.Index, sp mqsql.QueueDir, stderr io.Writer) {
	lr, ok := driver.(mqsql.LogReader)
	if h.days <= 0 || !ok {
		return
	}
	src, err := maillog.Resolve(ctx, h.logs, h.rotated, lr, sp.Live())
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: warning: delivery history not read: %v\n", err)
		return
	}
	r := &maillog.Reader{DB: ix.DB(), Parser: lr.LogParser, Clock: clock, Retention: time.Duration(h.days) * 24 * time.Hour}
	read := func(ctx context.Context) (maillog.Stats, error) { return r.ReadFiles(ctx, src.Files) }
	if src.Journal {
		read = r.ReadJournal
	}
	st, err := read(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: warning: delivery history: %v\n", err)
	}
	if st.Unreadable > 0 {
		fmt.Fprintf(stderr, "mqsql: warning: %d lines of the mail log could not be read and were left out (log_positions.unreadable)\n", st.Unreadable)
	}
}

// historyNames are the tables and views of the delivery history: a statement that names one
// of them needs the mail log read first.
var historyNames = []string{"deliveries", "log_messages", "log_positions", "timeline", "delivered"}

// withHistory returns the guard's observer for a one-shot run: before the first statement
// that reads the delivery history, the log is caught up (catchUp); then next observes.
func (c *QueryCommand) withHistory(ctx context.Context, next func(index.Statement)) func(index.Statement) {
	return func(st index.Statement) {
		if slices.ContainsFunc(historyNames, func(name string) bool { return readsTable(st, name) }) {
			c.catchUp(ctx)
		}
		next(st)
	}
}

// catchUp reads the mail log into the index once, if this run keeps the index.
func (c *QueryCommand) catchUp(ctx context.Context) {
	if c.catchUpLog != nil {
		c.catchUpLog(ctx)
		c.catchUpLog = nil
	}
}

// followBatch is the watcher's transaction size for the log: small, so that the spool
// watcher's refreshes, which wait for the index's one writer, are not held up while a large
// log is caught up.
const followBatch = 2000

// followHistory is mqsql watch's hook: it reads the mail log on from the saved positions,
// then follows each current (not rotated) file until ctx ends. The returned function waits
// for the followers to stop.
func followHistory(ctx context.Context, h historyFlags, driver mqsql.Driver, ix *index.Index, sp mqsql.QueueDir, logger *log.Logger) func() {
	lr, ok := driver.(mqsql.LogReader)
	if h.days <= 0 || !ok {
		return func() {}
	}
	src, err := maillog.Resolve(ctx, h.logs, h.rotated, lr, sp.Live())
	if err != nil || len(src.Files) == 0 {
		logger.Printf("delivery history not followed: %v", cmp.Or(err, errors.New("no mail log file (name it with --log)")))
		return func() {}
	}
	r := &maillog.Reader{DB: ix.DB(), Parser: lr.LogParser, Clock: clock, Retention: time.Duration(h.days) * 24 * time.Hour,
		Batch: followBatch}
	var wg sync.WaitGroup
	for _, f := range maillog.Current(src.Files) {
		logger.Printf("following the mail log %s", f)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Follow(ctx, f, func(err error) { logger.Printf("mail log %s: %v", f, err) })
		}()
	}
	if rotated := maillog.Rotated(src.Files); len(rotated) > 0 {
		if _, err := r.ReadFiles(ctx, rotated); err != nil {
			logger.Printf("delivery history: %v", err)
		}
	}
	return wg.Wait
}
