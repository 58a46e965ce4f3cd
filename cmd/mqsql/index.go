package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/spool"
)

// openIndex opens the spool and the index and brings the index up to date.
func openIndex(ctx context.Context, o *options, stderr io.Writer) (*index.Index, error) {
	cfg, err := spool.LoadConfig(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: warning: %v; using Postfix's defaults\n", err)
	}
	if o.spool != "" {
		cfg.QueueDirectory = o.spool
	}
	sp, err := spool.Open(cfg)
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	warnings := 0
	sp.Warn = func(err error) {
		warnings++
		if warnings <= maxWarnings {
			fmt.Fprintf(stderr, "mqsql: warning: %v\n", err)
		}
	}
	ix, err := index.Open(ctx, o.db)
	if err != nil {
		return nil, err
	}
	if _, err := ix.Sync(ctx, sp); err != nil {
		ix.Close()
		return nil, fmt.Errorf("index %s: %w", cfg.QueueDirectory, err)
	}
	if warnings > maxWarnings {
		fmt.Fprintf(stderr, "mqsql: %d more warnings not shown\n", warnings-maxWarnings)
	}
	return ix, nil
}

// maxWarnings bounds how many spool warnings are printed, so a badly damaged spool does not
// bury the query's output.
const maxWarnings = 20
