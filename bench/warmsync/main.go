// Command warmsync times what a warm start of an index file costs on a Postfix spool, with
// nothing in between to change: the Sync that compares every queue file's and defer log's
// stamp with the index and finds them unchanged. It first brings the index up to date (a
// full build when the file is empty, a warm-up otherwise), then makes -runs warm runs, and can
// write a CPU profile of those, to say where a warm start's time goes (docs/BENCHMARKS.md):
//
//	warmsync -spool /var/tmp/mqsql-bench/spool-1000000 -db /var/tmp/warm.db -runs 3
//	cold     wall_s=61.20 files=1000000 read=1000000
//	warm     wall_s=7.02 cpu_s=11.10 files=1000000 unchanged=1000000
//
// The warm line is the median of -runs runs (wall and CPU each the median of their own).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mqsql/mqsql/bench/internal/measure"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/spool/postfix"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "warmsync: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("warmsync", flag.ContinueOnError)
	flags.SetOutput(stderr)
	dir := flags.String("spool", "", "a Postfix queue directory (a live one, or one bench/genspool wrote)")
	db := flags.String("db", "", "the index file: built when empty, kept afterwards")
	runs := flags.Int("runs", 3, "warm runs")
	profile := flags.String("cpuprofile", "", "write a CPU profile of the warm runs to this file")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *db == "" || *runs < 1 {
		return errors.New("usage: warmsync -spool DIR -db FILE [-runs N] [-cpuprofile FILE]")
	}
	cfg := postfix.DefaultConfig() // genspool's layout, and Postfix's default one
	cfg.QueueDirectory = *dir
	sp, err := postfix.Open(cfg)
	if err != nil {
		return err
	}
	defer sp.Close()
	var st index.Stats
	wall, _ := measure.Timed(func() { st, err = syncOnce(ctx, *db, sp) })
	if err != nil {
		return err
	}
	if st.Read > 0 {
		fmt.Fprintf(stdout, "cold     wall_s=%.2f files=%d read=%d\n", wall, st.Files, st.Read)
	}
	walls, cpus, st, err := warmRuns(ctx, *db, sp, *runs, *profile)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "warm     wall_s=%.2f cpu_s=%.2f files=%d unchanged=%d\n", measure.Median(walls), measure.Median(cpus), st.Files, st.Unchanged)
	return nil
}

// warmRuns makes runs warm Syncs of the built index, under a CPU profile into profile unless
// it is "", and returns their wall and CPU seconds and the last one's stats. A run that reads
// a file means the spool changed, and what it measured is no warm start.
func warmRuns(ctx context.Context, db string, sp *postfix.Spool, runs int, profile string) (walls, cpus []float64, st index.Stats, err error) {
	if profile != "" {
		stop, err := measure.StartProfile(profile)
		if err != nil {
			return nil, nil, st, err
		}
		defer stop()
	}
	for i := range runs {
		wall, cpu := measure.Timed(func() { st, err = syncOnce(ctx, db, sp) })
		if err != nil {
			return nil, nil, st, err
		}
		if st.Read > 0 {
			return nil, nil, st, fmt.Errorf("warm run %d read %d files: the spool changed between runs", i+1, st.Read)
		}
		walls, cpus = append(walls, wall), append(cpus, cpu)
	}
	return walls, cpus, st, nil
}

// syncOnce opens the index as a run does, brings it up to date and closes it, so that each
// run starts from the file alone (its write-ahead log checkpointed by the close).
func syncOnce(ctx context.Context, db string, sp *postfix.Spool) (index.Stats, error) {
	ix, err := index.Open(ctx, db)
	if err != nil {
		return index.Stats{}, err
	}
	st, err := ix.Sync(ctx, sp)
	return st, errors.Join(err, ix.Close())
}
