// Command floor splits a cold index of a Postfix spool into its parts, to say what the floor
// of each is: the system calls alone (an lstat of every queue file and defer log, what a warm
// start needs; and open, one read of up to 16 KB, close, what a cold load needs; no parsing), mqsql's reader alone (every message read and parsed into
// memory, nothing stored), and SQLite alone (the same messages, already in memory, loaded
// into a temporary index by the same Sync as a real run; they are kept encoded outside the
// Go heap, and the decode phase says what decoding them costs). Each phase prints its wall time and
// the process's CPU time (user+sys) during it:
//
//	floor -spool /var/tmp/mqsql-bench/spool-100000 -runs 3
//	lstat    wall_s=0.40 cpu_s=0.71 files=186012
//	syscalls wall_s=1.21 cpu_s=2.20 files=186012
//	reader   wall_s=1.93 cpu_s=3.61 messages=100000
//	decode   wall_s=0.30 cpu_s=0.30 messages=100000
//	sqlite   wall_s=2.10 cpu_s=2.41 messages=100000
//
// Each line is the median of -runs runs (wall and CPU each the median of their own).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/bench/internal/measure"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/spool/postfix"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "floor: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("floor", flag.ContinueOnError)
	flags.SetOutput(stderr)
	dir := flags.String("spool", "", "a Postfix queue directory (a live one, or one bench/genspool wrote)")
	runs := flags.Int("runs", 3, "runs of each phase")
	profile := flags.String("cpuprofile", "", "write a CPU profile of the phase named by -phase to this file")
	only := flags.String("phase", "sqlite", "the phase -cpuprofile profiles")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *runs < 1 {
		return errors.New("usage: floor -spool DIR [-runs N]")
	}
	cfg := postfix.DefaultConfig() // genspool's layout, and Postfix's default one
	cfg.QueueDirectory = *dir
	sp, err := postfix.Open(cfg)
	if err != nil {
		return err
	}
	defer sp.Close()
	msgs, err := newArena(8 << 30) // reserved, not allocated: a million messages use about 1 GB
	if err != nil {
		return err
	}
	defer msgs.free()
	phases := []struct {
		name, unit string
		fn         func() (int, error)
	}{
		{"lstat", "files", func() (int, error) { return eachRaw(*dir, lstatOne) }},
		{"syscalls", "files", func() (int, error) { return eachRaw(*dir, readOne) }},
		{"reader", "messages", func() (int, error) { return readAll(ctx, sp) }},
		{"decode", "messages", func() (int, error) { return decodeAll(msgs) }},
		{"sqlite", "messages", func() (int, error) { return loadFromMemory(ctx, sp, msgs) }},
	}
	// The reader phase keeps what it reads only once, for the later phases.
	if err := keepAll(ctx, sp, msgs); err != nil {
		return err
	}
	for _, p := range phases {
		var walls, cpus []float64
		n := 0
		stop, err := startProfile(*profile, p.name == *only)
		if err != nil {
			return err
		}
		for range *runs {
			var count int
			var err error
			wall, cpu := measure.Timed(func() { count, err = p.fn() })
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			walls, cpus, n = append(walls, wall), append(cpus, cpu), count
		}
		stop()
		fmt.Fprintf(stdout, "%-8s wall_s=%.2f cpu_s=%.2f %s=%d\n", p.name, measure.Median(walls), measure.Median(cpus), p.unit, n)
	}
	return nil
}

// startProfile starts a CPU profile into path when on, and returns what stops it.
func startProfile(path string, on bool) (func(), error) {
	if path == "" || !on {
		return func() {}, nil
	}
	return measure.StartProfile(path)
}

// workers is how many files are read at once, as the index's bulk load does (4 per core).
const workers = 8

// rawDirs are the directories of a Postfix queue that a cold load reads files from, as
// bench/run.sh's raw read floor lists them.
var rawDirs = []string{"maildrop", "incoming", "active", "deferred", "hold", "defer"}

// eachRaw calls do, on workers goroutines, for every file under rawDirs: with lstatOne what a
// warm start cannot avoid (it compares each file's and defer log's stamp with the index),
// with readOne what a cold load cannot (open, one read of up to 16 KB, close), without any
// parsing.
func eachRaw(dir string, do func(path string, buf []byte) error) (int, error) {
	paths := make(chan string, 256)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var doErr error
	for range workers {
		wg.Go(func() {
			buf := make([]byte, 16<<10)
			for p := range paths {
				if err := do(p, buf); err != nil {
					mu.Lock()
					doErr = errors.Join(doErr, err)
					mu.Unlock()
				}
			}
		})
	}
	count := 0
	var walkErr error
	for _, d := range rawDirs {
		walkErr = errors.Join(walkErr, filepath.WalkDir(filepath.Join(dir, d), func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.Type().IsRegular() {
				paths <- p
				count++
			}
			return nil
		}))
	}
	close(paths)
	wg.Wait()
	return count, errors.Join(walkErr, doErr)
}

func lstatOne(path string, _ []byte) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("lstat %s: %w", path, err)
	}
	return nil
}

func readOne(path string, buf []byte) error {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer syscall.Close(fd)
	_, err = syscall.Pread(fd, buf, 0)
	return err
}

// readAll reads and parses every message as a cold load does, and drops it.
func readAll(ctx context.Context, sp *postfix.Spool) (int, error) {
	n := 0
	err := eachMessage(ctx, sp, func(*mqsql.Message) error { n++; return nil })
	return n, err
}

// keepAll reads every message into the arena.
func keepAll(ctx context.Context, sp *postfix.Spool, a *arena) error {
	return eachMessage(ctx, sp, a.add)
}

// decodeAll decodes every message of the arena: the part of the SQLite phase that is this
// tool's own.
func decodeAll(a *arena) (int, error) {
	for i := range a.len() {
		_ = a.message(i)
	}
	return a.len(), nil
}

// eachMessage reads the messages on workers goroutines and calls keep with each, one at a
// time.
func eachMessage(ctx context.Context, sp *postfix.Spool, keep func(*mqsql.Message) error) error {
	entries := make(chan mqsql.Entry, 256)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for e := range entries {
				m, err := sp.ReadWithin(e, nil)
				mu.Lock()
				switch {
				case err == nil:
					err = keep(m)
				case errors.Is(err, mqsql.ErrGone) || errors.Is(err, mqsql.ErrIncomplete):
					err = nil
				}
				firstErr = errors.Join(firstErr, err)
				mu.Unlock()
			}
		})
	}
	err := sp.WalkForRead(ctx, func(e mqsql.Entry) error { entries <- e; return nil })
	close(entries)
	wg.Wait()
	return errors.Join(err, firstErr)
}

// loadFromMemory loads the arena's messages into a new temporary index through Sync, with a
// spool whose walk and reads are served from memory: what SQLite and the load's pipeline cost
// without the disk (and with the arena's decoding, which the decode phase measures).
func loadFromMemory(ctx context.Context, sp *postfix.Spool, a *arena) (int, error) {
	ix, err := index.OpenScratch(ctx)
	if err != nil {
		return 0, err
	}
	defer ix.Close()
	st, err := ix.Sync(ctx, &memorySpool{Spool: sp, arena: a})
	return st.Read, err
}

// memorySpool is a spool whose full walk lists the arena's messages and whose reads decode
// them.
type memorySpool struct {
	*postfix.Spool
	arena *arena
}

func (m *memorySpool) WalkForRead(ctx context.Context, fn func(mqsql.Entry) error) error {
	for i := range m.arena.len() {
		if err := fn(mqsql.Entry{File: mqsql.FileInfo{Stamp: mqsql.Stamp{Size: int64(i)}}, Lazy: true}); err != nil {
			return err
		}
	}
	return nil
}

func (m *memorySpool) ReadWithin(e mqsql.Entry, _ *mqsql.RecipientBudget) (*mqsql.Message, error) {
	return m.arena.message(int(e.File.Size)), nil
}
