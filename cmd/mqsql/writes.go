package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
	"github.com/mqsql/mqsql/spool/postfix"
)

// newWrites decides how write statements act on the spool: through postsuper and postqueue
// when the spool is the queue_directory of the Postfix installed here, by direct file
// operations on any other spool. mqsql never runs postsuper against a queue other than the
// one it was asked to act on.
func newWrites(ctx context.Context, o *options, ix *index.Index, sp *postfix.Spool) *shell.Writes {
	w := &shell.Writes{
		Spool: sp, DryRun: o.dryRun, Yes: o.yes, Force: o.force,
		BackupBase: o.backupDir, NoBackup: o.noBackup, Clock: clock, Intend: ix.RecordIntents,
		Refresh: func(ctx context.Context) error {
			_, err := ix.Sync(ctx, sp)
			return err
		},
	}
	if livePostfix(ctx, sp.Dir()) {
		w.Backend = "postsuper"
		w.Executor = &postfix.Postsuper{Spool: sp, IncludeActive: o.includeActive}
	} else {
		w.Backend = "direct"
		w.Executor = &postfix.Direct{Spool: sp, IncludeActive: o.includeActive}
	}
	return w
}

// livePostfix reports whether dir is the queue directory of the Postfix installed on this
// machine, so that postsuper (which always acts on that queue) acts on dir.
func livePostfix(ctx context.Context, dir string) bool {
	if _, err := exec.LookPath("postsuper"); err != nil {
		if _, err := exec.LookPath("/usr/sbin/postsuper"); err != nil {
			return false
		}
	}
	cfg, err := postfix.LoadConfig(ctx)
	if err != nil {
		return false
	}
	return sameDir(cfg.QueueDirectory, dir)
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// openSession pins a connection for the session and guards it: the user's SQL can read the
// index, and DELETE/UPDATE on messages become plans, but nothing can change the index itself.
func openSession(ctx context.Context, o *options, ix *index.Index, sp *postfix.Spool, opt sessionIO) (*shell.Session, func(), error) {
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open session: %w", err)
	}
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	s := &shell.Session{Conn: conn, Out: opt.stdout, Err: opt.stderr, Opt: opt.out, Bail: o.bail, Guard: g,
		Writes: newWrites(ctx, o, ix, sp), Layout: sp}
	return s, func() { conn.Close() }, nil
}

// sessionIO bundles where a session writes and how.
type sessionIO struct {
	stdout, stderr io.Writer
	out            output.Options
}

// openSpool opens the spool the options name, for the session's write statements.
func openSpool(ctx context.Context, o *options) (*postfix.Spool, error) {
	cfg, _ := postfix.LoadConfig(ctx) // a failure was already reported when the index was built
	if o.spool != "" {
		cfg.QueueDirectory = o.spool
	}
	return postfix.Open(cfg)
}
