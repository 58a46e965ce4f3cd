package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/spool"
)

// openIndex opens the index and brings it up to date: with --db and a live watcher owning
// the file (mqsql watch, or a REPL), the index is current already and is read as it is;
// otherwise this process reconciles it with the spool.
func openIndex(ctx context.Context, o *options, stderr io.Writer) (*index.Index, error) {
	ix, err := index.Open(ctx, o.db, index.WithClock(clock))
	if err != nil {
		return nil, err
	}
	if o.db != "" {
		_, live, err := index.WaitForOwner(ctx, o.db, func(info index.OwnerInfo) {
			fmt.Fprintf(stderr, "mqsql: waiting for mqsql watch (pid %d) to finish loading %s\n", info.PID, o.db)
		})
		if err != nil {
			ix.Close()
			return nil, err
		}
		if live {
			return ix, nil
		}
	}
	if err := syncIndex(ctx, o, ix, stderr); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

// syncIndex reads the spool into the index, printing the spool's warnings (a bounded number).
func syncIndex(ctx context.Context, o *options, ix *index.Index, stderr io.Writer) error {
	sp, err := openSpoolWarning(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer sp.Close()
	warnings := 0
	sp.Warn = func(err error) {
		warnings++
		if warnings <= maxWarnings {
			fmt.Fprintf(stderr, "mqsql: warning: %v\n", err)
		}
	}
	defer showProgress(ix, stderr)()
	if _, err := ix.Sync(ctx, sp); err != nil {
		return fmt.Errorf("index %s: %w", sp.Dir(), err)
	}
	if warnings > maxWarnings {
		fmt.Fprintf(stderr, "mqsql: %d more warnings not shown\n", warnings-maxWarnings)
	}
	return nil
}

// openSpoolWarning opens the spool --spool or postconf names, saying so when postconf failed
// and Postfix's defaults are used instead.
func openSpoolWarning(ctx context.Context, o *options, stderr io.Writer) (*spool.Spool, error) {
	cfg, err := spool.LoadConfig(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: warning: %v; using Postfix's defaults\n", err)
	}
	if o.spool != "" {
		cfg.QueueDirectory = o.spool
	}
	return spool.Open(cfg)
}

// clock is what mqsql takes as the present (nil: the system clock); tests stop it.
var clock mqsql.Clock

// maxWarnings bounds how many spool warnings are printed, so a badly damaged spool does not
// bury the query's output.
const maxWarnings = 20
