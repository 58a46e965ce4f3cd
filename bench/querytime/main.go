// Command querytime times one SQL statement on an existing mqsql index file, without the sync
// mqsql does first: what a query costs on an index that is already built. It runs the
// statement -runs times, reading every row, and prints the median and the fastest run in
// milliseconds and the number of rows:
//
//	querytime -db /var/tmp/mqsql-bench/index.db "SELECT sender, count(*) FROM messages GROUP BY sender"
//	median_ms=212.4 min_ms=205.1 rows=10000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/mqsql/mqsql/index"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "querytime: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("querytime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "index file, as made by mqsql --db")
	runs := fs.Int("runs", 5, "how many times to run the statement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" || fs.NArg() != 1 || *runs < 1 {
		return errors.New("usage: querytime -db FILE [-runs N] SQL")
	}
	if _, err := os.Stat(*db); err != nil {
		return err // index.Open would create an empty index
	}
	ix, err := index.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer ix.Close()
	var times []float64
	rows := 0
	for range *runs {
		start := time.Now()
		if rows, err = drain(ctx, ix, fs.Arg(0)); err != nil {
			return err
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(times)
	fmt.Fprintf(stdout, "median_ms=%.1f min_ms=%.1f rows=%d\n", times[len(times)/2], times[0], rows)
	return nil
}

// drain runs the query and reads every value of every row, as a client printing it would.
func drain(ctx context.Context, ix *index.Index, query string) (int, error) {
	rows, err := ix.DB().QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}
