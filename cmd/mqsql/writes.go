package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
)

// newWrites decides how write statements act on the spool: through postsuper and postqueue
// when the spool is the queue_directory of the Postfix installed here, by direct file
// operations on any other spool. mqsql never runs postsuper against a queue other than the
// one it was asked to act on.
func newWrites(ctx context.Context, o writeFlags, ix *index.Index, sp mqsql.QueueDir) *shell.Writes {
	w := &shell.Writes{
		Spool: sp, Read: sp, DryRun: o.dryRun, Yes: o.yes, Force: o.force,
		BackupBase: o.backupDir, NoBackup: o.noBackup, Clock: clock, Intend: ix.RecordIntents,
		Refresh: func(ctx context.Context) error {
			_, err := ix.Sync(ctx, sp)
			return err
		},
	}
	w.Executor, w.Backend = sp.Executor(o.includeActive)
	return w
}

// openSession pins a connection for the session and guards it: the user's SQL can read the
// index, and DELETE/UPDATE on messages become plans, but nothing can change the index itself.
func openSession(ctx context.Context, o writeFlags, bail bool, ix *index.Index, sp mqsql.QueueDir, opt sessionIO) (*shell.Session, func(), error) {
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open session: %w", err)
	}
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	s := &shell.Session{Conn: conn, Out: opt.stdout, Err: opt.stderr, Opt: opt.out, Bail: bail, Guard: g,
		Writes: newWrites(ctx, o, ix, sp), Layout: sp}
	return s, func() { conn.Close() }, nil
}

// sessionIO bundles where a session writes and how.
type sessionIO struct {
	stdout, stderr io.Writer
	out            output.Options
}
