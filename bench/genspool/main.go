// Command genspool writes a synthetic Postfix queue of any size for benchmarks: valid queue
// files and defer logs (internal/spoolgen) under a spool directory laid out like
// /var/spool/postfix.
//
//	go run ./bench/genspool -n 100000 -out /var/tmp/mqsql-bench/spool
//
// With -owner postfix the files belong to Postfix's mail_owner, so that showq (postqueue)
// and postsuper can read them once the directories are moved into the live queue; with
// -retry far deferred and held files get a far-future mtime, so a running Postfix never
// retries them. It prints a one-line summary, with -senders the busiest senders, and with
// -manifest it lists every message written (bench/run.sh uses it to put deleted mail back).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"sort"
	"strconv"
	"time"

	"github.com/mqsql/mqsql/internal/spoolgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "genspool: %v\n", err)
		os.Exit(1)
	}
}

// farFuture is the mtime -retry far gives deferred and held files: 2100-01-01 00:00:00 UTC,
// as testdata/capture-oracle.sh uses.
const farFuture = 4102444800

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("genspool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10000, "number of messages")
	out := fs.String("out", "", "spool directory to write (created; must not hold a spool already)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same population")
	owner := fs.String("owner", "", "user that owns the files (e.g. postfix); default: the caller")
	retry := fs.String("retry", "", `mtime of deferred and held files: "far" (2100-01-01), a unix time, or empty for now+0..4h`)
	shortIDs := fs.Float64("short-ids", 0, "share of short (hex) queue IDs (default 0.2; negative: none)")
	top := fs.Int("senders", 0, "print the N busiest senders with their message counts")
	manifest := fs.String("manifest", "", "write one line per message to this file: queue ID, queue, path, defer log path, sender (tab-separated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	opt := spoolgen.Options{Messages: *n, Seed: *seed, ShortIDs: *shortIDs}
	if err := applyOwner(&opt, *owner); err != nil {
		return err
	}
	if err := applyRetry(&opt, *retry); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	man, err := openManifest(*manifest)
	if err != nil {
		return err
	}
	senders := map[string]int{}
	start := time.Now()
	sum, err := spoolgen.Generate(ctx, *out, opt, func(m *spoolgen.Message) error {
		senders[m.Sender]++
		if man != nil {
			_, err := fmt.Fprintf(man, "%s\t%s\t%s\t%s\t%s\n", m.QueueID, m.Queue, m.Path, m.DeferLogPath, m.Sender)
			return err
		}
		return nil
	})
	if err == nil && man != nil {
		err = man.close()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "genspool: %d messages, %d recipients, %.1f MB of queue files, %.1f MB of defer logs, %v in %s (%.1fs)\n",
		sum.Messages, sum.Recipients, float64(sum.Bytes)/1e6, float64(sum.LogBytes)/1e6, sum.PerQueue, *out, time.Since(start).Seconds())
	printTop(stdout, senders, *top)
	return nil
}

// manifest is the -manifest file, buffered.
type manifest struct {
	*bufio.Writer
	f *os.File
}

func openManifest(path string) (*manifest, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &manifest{bufio.NewWriterSize(f, 1<<20), f}, nil
}

func (m *manifest) close() error {
	if err := m.Flush(); err != nil {
		m.f.Close()
		return err
	}
	return m.f.Close()
}

func applyOwner(opt *spoolgen.Options, name string) error {
	if name == "" {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	if opt.UID, err = strconv.Atoi(u.Uid); err != nil {
		return err
	}
	opt.GID, err = strconv.Atoi(u.Gid)
	return err
}

func applyRetry(opt *spoolgen.Options, s string) error {
	switch s {
	case "":
		return nil
	case "far":
		opt.RetryTime = time.Unix(farFuture, 0)
		return nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("-retry %q: want far or a unix time", s)
	}
	opt.RetryTime = time.Unix(sec, 0)
	return nil
}

// printTop prints the n busiest senders, busiest first, as "count<TAB>sender" ("<>" for the
// null sender), for scripts that pick a sender to query or delete.
func printTop(w io.Writer, senders map[string]int, n int) {
	type kv struct {
		s string
		n int
	}
	var all []kv
	for s, c := range senders {
		all = append(all, kv{s, c})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].s < all[j].s })
	for i := 0; i < n && i < len(all); i++ {
		s := all[i].s
		if s == "" {
			s = "<>"
		}
		fmt.Fprintf(w, "%d\t%s\n", all[i].n, s)
	}
}
