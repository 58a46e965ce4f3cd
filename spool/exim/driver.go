package exim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
)

// Driver is Exim as mqsql's commands see it (mqsql.Driver): --mta exim, and the one "auto"
// picks for a directory that looks like an Exim spool.
type Driver struct{}

var (
	_ mqsql.Driver       = (*Driver)(nil)
	_ mqsql.QueueDir     = (*Spool)(nil)
	_ mqsql.LockedActive = (*Spool)(nil)
	_ mqsql.Backup       = (*Backup)(nil)
)

// Name implements mqsql.Driver.
func (d *Driver) Name() string { return "exim" }

// Installed reports whether an exim binary is on this machine.
func (d *Driver) Installed() bool {
	_, err := (&Executor{}).binary()
	return err == nil
}

// defaultSpools are where Exim keeps its spool when its configuration cannot be asked:
// Debian's, then the upstream default.
var defaultSpools = []string{"/var/spool/exim4", "/var/spool/exim"}

// Locate asks the installed Exim for its spool_directory (exim -bP spool_directory); when it
// cannot, it returns the first default spool that exists and the warning why.
func (d *Driver) Locate(ctx context.Context) (string, error) {
	dir, err := spoolDirectory(ctx)
	if err == nil {
		return dir, nil
	}
	for _, p := range defaultSpools {
		if st, serr := os.Stat(p); serr == nil && st.IsDir() {
			return p, fmt.Errorf("exim -bP spool_directory: %w; using %s", err, p)
		}
	}
	return defaultSpools[0], fmt.Errorf("exim -bP spool_directory: %w; using %s", err, defaultSpools[0])
}

// spoolDirectory runs exim -bP spool_directory.
func spoolDirectory(ctx context.Context) (string, error) {
	bin, err := (&Executor{}).binary()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-bP", "spool_directory").Output()
	if err != nil {
		return "", err
	}
	_, dir, ok := strings.Cut(strings.TrimSpace(string(out)), "=")
	if dir = strings.TrimSpace(dir); !ok || !filepath.IsAbs(dir) {
		return "", fmt.Errorf("unexpected answer %q", strings.TrimSpace(string(out)))
	}
	return dir, nil
}

// Check reports whether dir is an Exim spool directory (see Detect).
func (d *Driver) Check(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return &PermissionError{Path: dir, Err: err}
		}
		return &mqsql.NotQueueError{MTA: "Exim", Dir: dir, Hint: "exim -bP spool_directory", Err: err}
	}
	if !st.IsDir() || !Detect(dir) {
		return &mqsql.NotQueueError{MTA: "Exim", Dir: dir, Missing: []string{"input"}, Hint: "exim -bP spool_directory"}
	}
	return nil
}

// Open opens the spool dir (the located one when dir is ""), live when it is the spool of the
// Exim installed here.
func (d *Driver) Open(ctx context.Context, dir string, warn func(error)) (mqsql.QueueDir, error) {
	located, lerr := spoolDirectory(ctx)
	if dir == "" {
		dir, _ = d.Locate(ctx)
	}
	sp, err := Open(dir)
	if err != nil {
		return nil, err
	}
	sp.Warn = warn
	sp.live = lerr == nil && sameDir(located, dir)
	return sp, nil
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// Live reports whether the Exim installed here runs on this spool: exim's commands act on
// that Exim's spool, so they may act on this one only then.
func (s *Spool) Live() bool { return s.live }

// Executor is Exim's own commands on a live spool. On any other spool (an offline copy) every
// operation is refused: Exim's commands would act on the installed Exim's spool instead, and
// the driver has no file operations of its own.
func (s *Spool) Executor(includeActive bool) (mqsql.Executor, string) {
	if s.live {
		return &Executor{Spool: s, IncludeActive: includeActive}, "exim"
	}
	return offline{}, "refused"
}

// BeginBackup is NewBackup by the current user.
func (s *Spool) BeginBackup(base, sqlText string, now time.Time) (mqsql.Backup, error) {
	return s.NewBackup(base, mqsql.CurrentUser(), sqlText, now)
}

// offline is the Executor of a spool no installed Exim runs on.
type offline struct{}

const offlineRefusal = "refused: this spool is not the installed Exim's (exim -bP spool_directory), and exim's commands act only on that one"

func (offline) Command(mqsql.Op, mqsql.Queue) string { return offlineRefusal }

func (offline) Apply(_ context.Context, op mqsql.Op, _ mqsql.Queue, targets []mqsql.Target) []mqsql.Outcome {
	return allWith(op, targets, mqsql.Failed, offlineRefusal)
}
