package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
)

// keeper is the live view of a --db index for a session of this process that does not watch
// the spool itself. Before each statement it checks that the watcher which kept the file when
// the session began (mqsql watch, or a REPL) is still there. When it has stopped, it says so
// once on stderr and then either takes over (a REPL claims the file and watches the spool, as
// mqsql watch would, until it ends) or re-reads the spool before each statement (a script or a
// one-shot run, too short-lived to be the file's watcher). It implements shell.Live.
type keeper struct {
	ctx      context.Context // lives as long as the session: a watcher taken over runs in it
	db       string          // the index file
	live     liveFlags       // how to watch, after taking over
	ix       *index.Index
	sp       mqsql.Spool
	stderr   io.Writer
	takeOver bool

	owner   *index.OwnerInfo // the watcher last seen keeping the file; nil: there was none
	refresh bool             // the watcher stopped: re-read the spool before each statement
	w       *index.Watcher   // this process's watcher, after taking over
	claim   *index.Owner
}

// newKeeper returns the live view of ix; owner is the watcher that kept the file when it was
// opened (nil: this process brought the index up to date itself).
func newKeeper(ctx context.Context, db string, live liveFlags, ix *index.Index, sp mqsql.Spool, stderr io.Writer, owner *index.OwnerInfo, takeOver bool) *keeper {
	return &keeper{ctx: ctx, db: db, live: live, ix: ix, sp: sp, stderr: stderr, owner: owner, takeOver: takeOver}
}

// BeforeStatement makes sure the index is current for the next statement (shell.Session).
func (k *keeper) BeforeStatement(ctx context.Context) error {
	switch {
	case k.w != nil:
		return nil // this process's watcher keeps the index current
	case k.refresh:
		_, err := k.ix.Reconcile(ctx, k.sp)
		return err
	case k.owner == nil:
		return nil // read once when the run began, like every one-shot run
	}
	info, live, err := index.WaitForOwner(ctx, k.db, func(info index.OwnerInfo) {
		fmt.Fprintf(k.stderr, "mqsql: waiting for the watcher of %s (pid %d) to finish loading it\n", k.db, info.PID)
	})
	if err != nil {
		return err
	}
	if live {
		k.owner = &info
		return nil
	}
	return k.ownerStopped(ctx)
}

// ownerStopped takes over or starts refreshing, and says which, once.
func (k *keeper) ownerStopped(ctx context.Context) error {
	gone := k.owner.PID
	if k.takeOver {
		took, err := k.takeOverIndex()
		if err != nil || !took {
			return err
		}
		fmt.Fprintf(k.stderr, "mqsql: the watcher that kept %s current (pid %d) has stopped; "+
			"this session keeps it current from now on, until it ends\n", k.db, gone)
		return nil
	}
	k.refresh = true
	fmt.Fprintf(k.stderr, "mqsql: the watcher that kept %s current (pid %d) has stopped; "+
		"this run re-reads the spool before each statement from now on\n", k.db, gone)
	_, err := k.ix.Reconcile(ctx, k.sp)
	return err
}

// takeOverIndex claims the file and starts watching the spool. It reports false, and follows,
// when another watcher claimed the file first.
func (k *keeper) takeOverIndex() (bool, error) {
	claim, err := index.ClaimIndex(k.db)
	if errors.Is(err, index.ErrOwned) {
		info, live, err := index.WaitForOwner(k.ctx, k.db, nil)
		if live {
			k.owner = &info
		}
		return false, err
	}
	if err != nil {
		return false, err
	}
	w, err := k.ix.Watch(k.ctx, k.sp, k.live.options(nil))
	if err != nil {
		claim.Release()
		return false, fmt.Errorf("take over keeping %s current: %w", k.db, err)
	}
	if err := claim.SetState(index.OwnerReady); err != nil {
		w.Close()
		claim.Release()
		return false, err
	}
	k.w, k.claim = w, claim
	return true, nil
}

// Status describes the index and who keeps it current (shell.Live). It looks first, so that
// it never describes a watcher that has stopped.
func (k *keeper) Status(ctx context.Context) (string, error) {
	if err := k.BeforeStatement(ctx); err != nil {
		return "", err
	}
	switch {
	case k.w != nil:
		return k.w.Status(ctx)
	case k.refresh:
		return k.ix.Describe(ctx, k.sp.Dir(), fmt.Sprintf("none: the watcher that kept this index (pid %d) "+
			"has stopped; this run re-reads the spool before each statement", k.owner.PID))
	case k.owner == nil:
		return k.ix.Describe(ctx, k.sp.Dir(), "none: this run brought the index up to date from the spool "+
			"when it began and answers from that; events are recorded only while a watcher keeps the file "+
			"(mqsql watch --db FILE, or a REPL on it)")
	}
	return k.ix.Describe(ctx, k.sp.Dir(), k.owner.Describe())
}

// Rescan brings the index up to date now (shell.Live): through this process's watcher, or by
// one reconcile pass here while another process's watcher goes on.
func (k *keeper) Rescan(ctx context.Context) error {
	if k.w != nil {
		return k.w.Rescan(ctx)
	}
	_, err := k.ix.Reconcile(ctx, k.sp)
	return err
}

// watched reports whether a watcher keeps the index current at this moment.
func (k *keeper) watched() bool { return k.w != nil || (k.owner != nil && !k.refresh) }

// stop ends the watcher this process took over, if it did.
func (k *keeper) stop() {
	if k.w != nil {
		k.w.Close()
		k.claim.Release()
	}
}

// eventsNotice returns the guard's observer that explains, once, an events table read in a run
// that no watcher keeps: rows there come only from a watcher, so a 0 means "nobody looked".
// watched is nil for an index in memory.
func eventsNotice(db string, followsCache bool, stderr io.Writer, watched func() bool) func(index.Statement) {
	told := false
	return func(st index.Statement) {
		if told || !readsTable(st, "events") || (watched != nil && watched()) {
			return
		}
		told = true
		if db == "" || followsCache {
			fmt.Fprintln(stderr, "mqsql: note: events is empty in a run without --db that no watcher keeps: it records "+
				"arrivals, moves and departures only while a watcher keeps the index (mqsql watch keeps the cache "+
				"that runs without --db read; mqsql watch --db FILE keeps FILE)")
			return
		}
		fmt.Fprintf(stderr, "mqsql: note: no watcher keeps %s, so events holds only what was recorded while one ran "+
			"(mqsql watch --db %s keeps it current)\n", db, db)
	}
}

// readsTable reports whether st reads table: the guard saw one of its columns read, or the
// statement names it (SQLite reports no column read for count(*), so the name is looked for
// among the statement's words and quoted names, never inside a string or a comment).
func readsTable(st index.Statement, table string) bool {
	if slices.Contains(st.Tables, table) {
		return true
	}
	for _, t := range index.Tokens(st.SQL) {
		if (t.Kind == index.TokenWord || t.Kind == index.TokenQuoted) && strings.EqualFold(t.Value(st.SQL), table) {
			return true
		}
	}
	return false
}
