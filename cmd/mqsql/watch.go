package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

func init() { subcommands["watch"] = runWatch }

// runWatch is `mqsql watch [--db FILE]`: a foreground daemon that keeps the index file (without
// --db, the queue's cache index) equal to the spool and fills its events table, so that other
// invocations with --db FILE (without --db) answer at once. It logs to stderr and exits 0 on
// SIGTERM or SIGINT.
func runWatch(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) int {
	o, err := parseWatchFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "mqsql watch: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The log quotes file names and errors from the spool: escaped like all of stderr, also
	// when runWatch is called without run around it.
	logger := log.New(output.Escaping(stderr), "mqsql watch: ", log.LstdFlags)
	if err := watchIndex(ctx, o, logger); err != nil {
		logger.Print(err)
		var de *metrics.DefinitionError
		if errors.As(err, &de) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

func parseWatchFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mqsql watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addSpoolFlag(fs, o)
	fs.StringVar(&o.db, "db", "", "the index file to keep current (default: the queue's cache index, which mqsql runs without --db read)")
	addLiveFlags(fs, o)
	addMetricsFlags(fs, &o.metrics)
	addHistoryFlags(fs, &o.history)
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
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := chooseDriver(o); err != nil {
		return nil, err
	}
	if err := checkMetricsFlags(&o.metrics); err != nil {
		return nil, err
	}
	return o, nil
}

// watchIndex claims the index file, loads it, and keeps it current until ctx ends.
func watchIndex(ctx context.Context, o *options, logger *log.Logger) error {
	ix, owner, sp, err := openWatched(ctx, o, logger)
	if err != nil {
		return err
	}
	defer sp.Close()
	defer ix.Close()
	defer owner.Release()
	ms, err := openMetrics(ctx, &o.metrics, ix, logger)
	if err != nil {
		return err
	}
	if ms != nil {
		defer ms.close()
	}
	logger.Printf("loading %s from %s", ix.Path(), sp.Dir())
	w, err := ix.Watch(ctx, sp, liveOptions(o, logger.Printf))
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
	historyDone := followHistory(histCtx, o, ix, sp, logger)
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
func openWatched(ctx context.Context, o *options, logger *log.Logger) (*index.Index, *index.Owner, mqsql.QueueDir, error) {
	if o.db != "" {
		owner, err := index.ClaimIndex(o.db)
		if err != nil {
			return nil, nil, nil, err
		}
		ix, err := index.Open(ctx, o.db, index.WithClock(clock))
		if err != nil {
			owner.Release()
			return nil, nil, nil, err
		}
		sp, err := openWatchedSpool(ctx, o, logger)
		if err != nil {
			ix.Close()
			owner.Release()
			return nil, nil, nil, err
		}
		return ix, owner, sp, nil
	}
	sp, err := openWatchedSpool(ctx, o, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	ix, err := openCacheWaiting(ctx, o.driver.Name(), sp.Dir(), func() {
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

// openWatchedSpool opens the spool, logging its warnings.
func openWatchedSpool(ctx context.Context, o *options, logger *log.Logger) (mqsql.QueueDir, error) {
	return openQueue(ctx, o, logger.Printf, func(err error) { logger.Printf("warning: %v", err) })
}

func describeMode(st index.WatchState) string {
	if st.Mode == "poll" {
		return fmt.Sprintf("polling every %v", st.Poll)
	}
	return fmt.Sprintf("watching %d directories with inotify", st.Dirs)
}

// liveOptions turns the live flags into watcher options.
func liveOptions(o *options, logf func(string, ...any)) index.WatchOptions {
	return index.WatchOptions{Poll: o.poll, Reconcile: o.reconcile, Retention: o.retention, Logf: logf}
}

// startLive keeps the REPL's index current while the REPL is open. With --db FILE, or on the
// cache index, it claims the file, so other invocations read it at once; when a watcher in
// another process already owns FILE, the REPL follows it, and takes over when it stops
// (keeper). On the cache another process's watcher keeps, it follows and never takes over:
// that watcher's lock on the cache outlives its claim. The returned function stops whatever
// was started.
func startLive(ctx context.Context, o *options, ix *index.Index, sp mqsql.Spool, stderr io.Writer) (shell.Live, func(), error) {
	if o.followsCache {
		info, _, _ := index.IndexOwner(o.db)
		k := newKeeper(ctx, o, ix, sp, stderr, &info, false)
		return k, k.stop, nil
	}
	claimed := o.db
	if claimed == "" && !ix.Temporary() {
		claimed = ix.Path() // the cache, whose lock this process holds
	}
	if claimed == "" {
		return watchUnclaimed(ctx, o, ix, sp)
	}
	owner, err := index.ClaimIndex(claimed)
	switch {
	case err == nil:
	case o.db == "":
		// The cache: other runs then index the queue themselves, as before it was claimed.
		return watchUnclaimed(ctx, o, ix, sp)
	case errors.Is(err, index.ErrOwned):
		info, _, _ := index.IndexOwner(o.db)
		k := newKeeper(ctx, o, ix, sp, stderr, &info, true)
		return k, k.stop, nil
	default:
		return nil, nil, err
	}
	w, err := ix.Watch(ctx, sp, liveOptions(o, nil))
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
func watchUnclaimed(ctx context.Context, o *options, ix *index.Index, sp mqsql.Spool) (shell.Live, func(), error) {
	w, err := ix.Watch(ctx, sp, liveOptions(o, nil))
	if err != nil {
		return nil, nil, err
	}
	return w, func() { w.Close() }, nil
}
