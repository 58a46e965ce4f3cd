package postfix

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/syscmd"
)

// Driver is Postfix as mqsql's commands see it (mqsql.Driver). It asks postconf once per run
// for the settings every later step needs (the queue directory, the hashing), so that a run
// never reads the queue with one configuration and acts on it with another.
type Driver struct {
	once sync.Once
	cfg  Config
	err  error
}

var (
	_ mqsql.Driver   = (*Driver)(nil)
	_ mqsql.QueueDir = (*Spool)(nil)
)

// Name implements mqsql.Driver.
func (d *Driver) Name() string { return "postfix" }

// Installed reports whether Postfix's postconf is on this machine.
func (d *Driver) Installed() bool {
	_, err := syscmd.Find("postconf")
	return err == nil
}

// config is postconf's answer, asked once.
func (d *Driver) config(ctx context.Context) (Config, error) {
	d.once.Do(func() { d.cfg, d.err = LoadConfig(ctx) })
	return d.cfg, d.err
}

// Locate is postconf's queue_directory, or Postfix's default with the warning why.
func (d *Driver) Locate(ctx context.Context) (string, error) {
	cfg, err := d.config(ctx)
	return cfg.QueueDirectory, err
}

// Check is CheckQueueDir.
func (d *Driver) Check(dir string) error { return CheckQueueDir(dir) }

// Open opens dir with the hashing postconf reported (Postfix's defaults when it could not be
// asked), live when it is the queue directory of the Postfix installed here.
func (d *Driver) Open(ctx context.Context, dir string, warn func(error)) (mqsql.QueueDir, error) {
	cfg, _ := d.config(ctx) // Locate reported a failure
	installed := cfg.QueueDirectory
	if dir != "" {
		cfg.QueueDirectory = dir
	}
	sp, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	sp.Warn = warn
	sp.live = d.err == nil && postsuperInstalled() && sameDir(installed, cfg.QueueDirectory)
	return sp, nil
}

// Live reports whether the Postfix installed here runs on this spool: postsuper and postqueue
// always act on that Postfix's queue, so they may act on this one only then.
func (s *Spool) Live() bool { return s.live }

// Executor is Postsuper on a live spool and Direct on any other.
func (s *Spool) Executor(includeActive bool) (mqsql.Executor, string) {
	if s.live {
		return &Postsuper{Spool: s, IncludeActive: includeActive}, "postsuper"
	}
	return &Direct{Spool: s, IncludeActive: includeActive}, "direct"
}

func postsuperInstalled() bool {
	_, err := syscmd.Find("postsuper")
	return err == nil
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}
