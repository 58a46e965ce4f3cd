package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/mqsql/mqsql/index"
)

// cacheDirHelp says where the cache index is, for --help.
const cacheDirHelp = "$XDG_CACHE_HOME/mqsql, else /var/cache/mqsql for root and ~/.cache/mqsql for others"

// openCache opens the cache index of the queue in spoolDir read by the driver called mta: one
// file per MTA and queue directory,
// kept between runs so that a run reads only the queue files that changed since the last
// one. Another run using it at the same moment makes this one fail with index.ErrCacheBusy.
func openCache(ctx context.Context, mta, spoolDir string) (*index.Index, error) {
	dir, err := cacheDir()
	if err != nil {
		return nil, err
	}
	return index.OpenCache(ctx, dir, cacheName(mta, spoolDir), index.WithClock(clock))
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
