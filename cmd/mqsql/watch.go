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

// runWatch is `mqsql watch --db FILE`: a foreground daemon that keeps the index file equal to
// the spool and fills its events table, so that other invocations with --db FILE answer at
// once. It logs to stderr and exits 0 on SIGTERM or SIGINT.
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
	fs.StringVar(&o.db, "db", "", "the index file to keep current (required)")
	addLiveFlags(fs, o)
	addMetricsFlags(fs, &o.metrics)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mqsql watch --db FILE [--listen ADDR] [flags]

Keeps the index FILE equal to the Postfix queue, watching the queue directories with inotify,
and records every arrival, move and departure in its events table. Runs in the foreground and
logs to stderr; SIGTERM or SIGINT stops it. While it runs, mqsql --db FILE reads FILE at once.
With --listen ADDR it also serves the queue's Prometheus metrics at http://ADDR/metrics, read
from the index (never the spool), with further metrics defined in SQL by --metrics FILE.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.db == "" {
		return nil, errors.New("--db FILE is required: the index to keep current")
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
	owner, err := index.ClaimIndex(o.db)
	if err != nil {
		return err
	}
	defer owner.Release()
	ix, err := index.Open(ctx, o.db, index.WithClock(clock))
	if err != nil {
		return err
	}
	defer ix.Close()
	ms, err := openMetrics(ctx, &o.metrics, ix, logger)
	if err != nil {
		return err
	}
	if ms != nil {
		defer ms.close()
	}
	sp, err := openWatchedSpool(ctx, o, logger)
	if err != nil {
		return err
	}
	defer sp.Close()
	logger.Printf("loading %s from %s", o.db, sp.Dir())
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

// startLive keeps the REPL's index current while the REPL is open. With --db FILE it claims
// FILE, so other invocations read it at once; when a watcher in another process already owns
// FILE, the REPL follows it, and takes over when it stops (keeper). The returned function
// stops whatever was started.
func startLive(ctx context.Context, o *options, ix *index.Index, sp mqsql.Spool, stderr io.Writer) (shell.Live, func(), error) {
	if o.db == "" {
		w, err := ix.Watch(ctx, sp, liveOptions(o, nil))
		if err != nil {
			return nil, nil, err
		}
		return w, func() { w.Close() }, nil
	}
	owner, err := index.ClaimIndex(o.db)
	if errors.Is(err, index.ErrOwned) {
		info, _, _ := index.IndexOwner(o.db)
		k := newKeeper(ctx, o, ix, sp, stderr, &info, true)
		return k, k.stop, nil
	}
	if err != nil {
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
