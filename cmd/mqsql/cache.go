package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mqsql/mqsql/index"
)

// cacheDirHelp says where the cache index is, for --help.
const cacheDirHelp = "$XDG_CACHE_HOME/mqsql, else /var/cache/mqsql for root and ~/.cache/mqsql for others"

// openCache opens the cache index of the queue in spoolDir read by the driver called mta: one
// file per MTA and queue directory, kept between runs so that a run reads only the queue
// files that changed since the last one. Another run using it at the same moment makes this
// one fail with index.ErrCacheBusy.
func openCache(ctx context.Context, mta, spoolDir string) (*index.Index, error) {
	dir, err := cacheDir()
	if err != nil {
		return nil, err
	}
	return index.OpenCache(ctx, dir, cacheName(mta, spoolDir), index.WithClock(clock))
}

// cachePath is the file of the cache index of the queue in spoolDir read by the driver called
// mta.
func cachePath(mta, spoolDir string) (string, error) {
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, cacheName(mta, spoolDir)), nil
}

// watchedCache returns the file of the queue's cache index when a live watcher keeps it, ""
// otherwise: mqsql restore then tells that watcher why the restored mail arrives, as it would
// with --db FILE.
func watchedCache(mta, spoolDir string) string {
	path, err := cachePath(mta, spoolDir)
	if err != nil {
		return ""
	}
	if _, live, err := index.IndexOwner(path); err != nil || !live {
		return ""
	}
	return path
}

// cacheBusyPoll is how often mqsql watch tries again for a cache index another run is using.
const cacheBusyPoll = 500 * time.Millisecond

// openCacheWaiting is openCache for mqsql watch without --db, which keeps the cache for as long
// as it runs: while a run uses the cache it waits (saying so once through waiting) instead of
// failing, since that run ends soon and the watcher is there to stay.
func openCacheWaiting(ctx context.Context, mta, spoolDir string, waiting func()) (*index.Index, error) {
	for told := false; ; told = true {
		ix, err := openCache(ctx, mta, spoolDir)
		if !errors.Is(err, index.ErrCacheBusy) {
			return ix, err
		}
		if !told {
			waiting()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cacheBusyPoll):
		}
	}
}

// followCache opens the cache index of the queue when a live watcher keeps it (mqsql watch
// without --db, or a REPL without --db), so that this run reads it as it is, as it would a
// watched --db FILE, instead of indexing the whole queue afresh because the cache is busy. It
// returns nil when no watcher keeps it, and otherwise the cache's file too, which this run
// then treats as a --db FILE it follows (QueryCommand.followsCache).
func followCache(ctx context.Context, mta, spoolDir string, stderr io.Writer) (*index.Index, string, error) {
	path, err := cachePath(mta, spoolDir)
	if err != nil {
		return nil, "", nil
	}
	// Wait before opening: a watcher's first load may not be in WAL mode yet.
	_, live, err := index.WaitForOwner(ctx, path, func(info index.OwnerInfo) {
		fmt.Fprintf(stderr, "mqsql: waiting for the watcher of the cache index (pid %d) to finish loading it\n", info.PID)
	})
	if err != nil || !live {
		return nil, "", err
	}
	ix, err := index.Open(ctx, path, index.WithClock(clock))
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: warning: not reading the watched cache index (%v); indexing the queue afresh for this run\n", err)
		return nil, "", nil
	}
	return ix, path, nil
}

// cacheDir is where cache indexes are kept: $XDG_CACHE_HOME/mqsql when set, else
// /var/cache/mqsql for root (the FHS's place for data a program can rebuild), else
// ~/.cache/mqsql.
func cacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "mqsql"), nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/mqsql", nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return "", errors.New("no home directory for the cache index")
	}
	return filepath.Join(home, ".cache", "mqsql"), nil
}

// cacheName names the cache index of the queue in spoolDir read by the driver called mta:
// the MTA's name and a hash of the queue's absolute path, so that two queues never share one.
func cacheName(mta, spoolDir string) string {
	if abs, err := filepath.Abs(spoolDir); err == nil {
		spoolDir = abs
	}
	sum := sha256.Sum256([]byte(spoolDir))
	return mta + "-" + hex.EncodeToString(sum[:8]) + ".db"
}
