package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/metrics"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
)

// WatchCommand is `mqsql watch [--db FILE]`: a foreground daemon that keeps the index file
// (without --db, the queue's cache index) equal to the spool and fills its events table, so
// that other invocations with --db FILE (without --db) answer at once. It logs to stderr and
// ends on SIGTERM or SIGINT.
type WatchCommand struct {
	streams
	spool   spoolFlags
	db      string
	live    liveFlags
	metrics metricsFlags
	history historyFlags // the mail log read into the history tables
}

// flags defines mqsql watch's flags, each once, into c.
func (c *WatchCommand) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("mqsql watch", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	c.spool.define(fs)
	fs.StringVar(&c.db, "db", "", "the index file to keep current (default: the queue's cache index, which mqsql runs without --db read)")
	c.live.define(fs)
	addMetricsFlags(fs, &c.metrics)
	addHistoryFlags(fs, &c.history)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mqsql watch [--db FILE] [--listen ADDR] [flags]

Keeps the index FILE equal to the mail queue, watching the queue directories with inotify,
and records every arrival, move and departure in its events table. Runs in the foreground and
logs to stderr; SIGTERM or SIGINT stops it. While it runs, mqsql --db FILE reads FILE at once.
Without --db it keeps the queue's cache index (in `+cacheDirHelp+`),
and mqsql runs without --db by the same user read that at once.
With --listen ADDR it also serves the queue's Prometheus metrics at http://ADDR/metrics, read
from the index (never the spool), with further metrics defined in SQL by --metrics FILE.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

// parse reads args, flags anywhere among them, into c; mqsql watch takes no other argument.
func (c *WatchCommand) parse(args []string) error {
	rest, err := parseAnywhere(c.flags(), args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if err := c.spool.choose(); err != nil {
		return err
	}
	if err := checkMetricsFlags(&c.metrics); err != nil {
		return &usageError{err}
	}
	return nil
}

// Run implements Command.
func (c *WatchCommand) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The log quotes file names and errors from the spool: escaped like all of stderr, also
	// when the command runs without run around it.
	logger := log.New(output.Escaping(c.stderr), "mqsql watch: ", log.LstdFlags)
	if err := c.watchIndex(ctx, logger); err != nil {
		logger.Print(err)
		var de *metrics.DefinitionError
		if errors.As(err, &de) {
			return &usageError{errReported}
		}
		return errReported
	}
	return nil
}

// watchIndex claims the index file, loads it, and keeps it current until ctx ends.
func (c *WatchCommand) watchIndex(ctx context.Context, logger *log.Logger) error {
	ix, owner, sp, err := c.openWatched(ctx, logger)
	if err != nil {
		return err
	}
	defer sp.Close()
	defer ix.Close()
	defer owner.Release()
	ms, err := openMetrics(ctx, &c.metrics, ix, logger)
	if err != nil {
		return err
	}
	if ms != nil {
		defer ms.close()
	}
	logger.Printf("loading %s from %s", ix.Path(), sp.Dir())
	w, err := ix.Watch(ctx, sp, c.live.options(logger.Printf))
	if err != nil {
		return err
	}
	defer w.Close()
	if err := owner.SetState(index.OwnerReady); err != nil {
		return err
	}
	st := w.State()
	logger.Printf("ready: %s; full pass every %v; events kept %v", describeMode(st), st.Reconcile, st.Retention)
	histCtx, stopHistory := context.WithCancel(ctx)
	historyDone := followHistory(histCtx, c.history, c.spool.driver, ix, sp, logger)
	defer historyDone()
	defer stopHistory()
	var served <-chan error
	if ms != nil {
		served = ms.serve(ctx, ix, w, logger)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	logger.Printf("stopping")
	if served != nil {
		return <-served
	}
	return nil
}

// openWatched claims and opens the index mqsql watch keeps, and opens the spool. --db FILE is
// claimed before anything is read, so that a second watcher of FILE fails at once; the cache
// index is named after the queue directory, so the spool is opened first, and the cache is
// claimed once its lock is held.
func (c *WatchCommand) openWatched(ctx context.Context, logger *log.Logger) (*index.Index, *index.Owner, mqsql.QueueDir, error) {
	if c.db != "" {
		owner, err := index.ClaimIndex(c.db)
		if err != nil {
			return nil, nil, nil, err
		}
		ix, err := index.Open(ctx, c.db, index.WithClock(clock))
		if err != nil {
			owner.Release()
			return nil, nil, nil, err
		}
		sp, err := c.openSpool(ctx, logger)
		if err != nil {
			ix.Close()
			owner.Release()
			return nil, nil, nil, err
		}
		return ix, owner, sp, nil
	}
	sp, err := c.openSpool(ctx, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	ix, err := openCacheWaiting(ctx, c.spool.driver.Name(), sp.Dir(), func() {
		logger.Printf("waiting for the mqsql run that is using the cache index of %s to end", sp.Dir())
	})
	if err != nil {
		sp.Close()
		return nil, nil, nil, err
	}
	owner, err := index.ClaimIndex(ix.Path())
	if err != nil {
		ix.Close()
		sp.Close()
		return nil, nil, nil, err
	}
	return ix, owner, sp, nil
}

// openSpool opens the spool, logging its warnings.
func (c *WatchCommand) openSpool(ctx context.Context, logger *log.Logger) (mqsql.QueueDir, error) {
	return c.spool.open(ctx, logger.Printf, func(err error) { logger.Printf("warning: %v", err) })
}

func describeMode(st index.WatchState) string {
	if st.Mode == "poll" {
		return fmt.Sprintf("polling every %v", st.Poll)
	}
	return fmt.Sprintf("watching %d directories with inotify", st.Dirs)
}

// startLive keeps the REPL's index current while the REPL is open. With --db FILE, or on the
// cache index, it claims the file, so other invocations read it at once; when a watcher in
// another process already owns FILE, the REPL follows it, and takes over when it stops
// (keeper). On the cache another process's watcher keeps, it follows and never takes over:
// that watcher's lock on the cache outlives its claim. The returned function stops whatever
// was started.
func (c *QueryCommand) startLive(ctx context.Context, ix *index.Index, sp mqsql.Spool) (shell.Live, func(), error) {
	if c.followsCache {
		info, _, _ := index.IndexOwner(c.db)
		k := newKeeper(ctx, c.db, c.live, ix, sp, c.stderr, &info, false)
		return k, k.stop, nil
	}
	claimed := c.db
	if claimed == "" && !ix.Temporary() {
		claimed = ix.Path() // the cache, whose lock this process holds
	}
	if claimed == "" {
		return watchUnclaimed(ctx, c.live, ix, sp)
	}
	owner, err := index.ClaimIndex(claimed)
	switch {
	case err == nil:
	case c.db == "":
		// The cache: other runs then index the queue themselves, as before it was claimed.
		return watchUnclaimed(ctx, c.live, ix, sp)
	case errors.Is(err, index.ErrOwned):
		info, _, _ := index.IndexOwner(c.db)
		k := newKeeper(ctx, c.db, c.live, ix, sp, c.stderr, &info, true)
		return k, k.stop, nil
	default:
		return nil, nil, err
	}
	w, err := ix.Watch(ctx, sp, c.live.options(nil))
	if err != nil {
		owner.Release()
		return nil, nil, err
	}
	if err := owner.SetState(index.OwnerReady); err != nil {
		w.Close()
		owner.Release()
		return nil, nil, err
	}
	return w, func() { w.Close(); owner.Release() }, nil
}

// watchUnclaimed keeps an index no other process reads current for the REPL.
func watchUnclaimed(ctx context.Context, live liveFlags, ix *index.Index, sp mqsql.Spool) (shell.Live, func(), error) {
	w, err := ix.Watch(ctx, sp, live.options(nil))
	if err != nil {
		return nil, nil, err
	}
	return w, func() { w.Close() }, nil
}
