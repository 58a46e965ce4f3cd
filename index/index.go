// Package index keeps the SQLite mirror of a Postfix queue: it creates the schema, loads what
// package spool reads, and keeps a persistent index in step with the spool by re-reading only
// the files that changed. The spool is the truth; anything here can be rebuilt from it.
package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/safefile"
	"github.com/mqsql/mqsql/sqlfuncs"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// schemaVersion changes whenever schema.sql does (it is derived from the text), so an index
// file written by another build of mqsql is rebuilt rather than misread.
var schemaVersion = int32(crc32.ChecksumIEEE([]byte(mqsql.Schema)) & 0x7fffffff)

// Index is an open mqsql index.
type Index struct {
	db   *sql.DB
	path string
	// OnProgress, when set, is called from Sync every few thousand files read and once at
	// the end, so a terminal can show a cold load advancing. Until the end, only Read,
	// Damaged and Elapsed are filled in: the walk counts the rest as it finishes.
	OnProgress func(Stats)
	// content is the spool header(), body() and postcat() read (see UseSpool).
	content *sqlfuncs.Source
	// clock is the index's "now": for now(), age(), ago() and the views, event retention and
	// status lines.
	clock mqsql.Clock
	// events counts the events rows written through this index (EventCounts).
	events eventCounts
	// scratch is the temporary directory of an index OpenScratch made, removed by Close.
	scratch string
	// private is set for an index no other process opens (a temporary one, or the cache,
	// whose lock this process holds): it is never fsynced, and it is loaded without WAL.
	private bool
	// walPending is set while a private index is empty and not yet in WAL mode: its first
	// load writes each page once, into the file, where WAL would write it twice (to the log,
	// then back), and Sync switches it to WAL once that load is committed.
	walPending bool
	// release, when set, is called by Close after the database is closed (the cache's lock).
	release func() error
	// direct is set for a database that answers from the spool (OpenDirect).
	direct bool
}

// Option configures an index before it opens.
type Option func(*Index)

// WithClock makes the index tell time by clock instead of the system clock, so that what a
// query says about ages is the same on every day a test runs.
func WithClock(clock mqsql.Clock) Option {
	return func(ix *Index) { ix.clock = clock }
}

var memCounter atomic.Int64

// Open opens the index in file path, creating it (mode 0600: it holds mail metadata) when
// missing, or an index in memory when path is "". An index file written by another schema
// version is emptied, since it can always be rebuilt; a database of another program is
// refused with a *ForeignError, and a link or another user's file with a safefile error.
func Open(ctx context.Context, path string, opts ...Option) (*Index, error) {
	ix := &Index{path: path, content: &sqlfuncs.Source{}}
	for _, o := range opts {
		o(ix)
	}
	dsn, err := dataSource(path, ix.private)
	if err != nil {
		return nil, err
	}
	db, err := openDB(dsn, ix.content, ix.clock)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	ix.db = db
	if err := ix.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return ix, nil
}

// dataSource builds the DSN. A file index uses WAL so readers never block the writer (migrate
// switches it on once the file is known to be mqsql's: the mode is kept in the file, and
// setting it on a foreign database would change it); an in-memory one uses the memdb VFS so
// every pooled connection sees the same database.
func dataSource(path string, private bool) (string, error) {
	const common = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)"
	if path == "" {
		return fmt.Sprintf("file:/mqsql-mem-%d-%d?vfs=memdb&%s", os.Getpid(), memCounter.Add(1), common), nil
	}
	if err := createPrivate(path); err != nil {
		return "", err
	}
	if private {
		return "file:" + path + "?_pragma=synchronous(OFF)&_pragma=cache_size(" + scratchCache + ")&_txlock=immediate&" + common, nil
	}
	return "file:" + path + "?_pragma=synchronous(NORMAL)&_txlock=immediate&" + common, nil
}

// indexFiles are the suffixes of the files SQLite opens by name for an index: the file
// itself, its WAL, the WAL's shared memory, and the rollback journal of a non-WAL database.
var indexFiles = []string{"", "-wal", "-shm", "-journal"}

// createPrivate creates the index file with mode 0600 before SQLite does, so that neither it
// nor the WAL files SQLite derives from its mode are readable by others, and checks what
// SQLite will open by name: no link is followed, no file of another user is used (a file of
// the caller's that others may read is made private by makePrivate, once migrate knows it is
// an mqsql index). SQLite itself creates and removes
// the -wal and -shm files while it runs, so the directory must be one only the caller (or
// root) can add files to: in a sticky directory such as /tmp another user could put a file of
// their own there between two of SQLite's opens.
func createPrivate(path string) error {
	if strings.ContainsAny(path, "?#") {
		return fmt.Errorf("index path %q: '?' and '#' are not allowed", path)
	}
	dir, err := openIndexDir(path)
	if err != nil {
		return err
	}
	defer dir.Close()
	name := filepath.Base(path)
	if err := checkFiles(dir, name, 0o777); err != nil {
		return err
	}
	exists, err := dir.Check(name, 0o777)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if exists {
		return nil
	}
	f, err := dir.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	return f.Close()
}

// openIndexDir opens and checks the directory of the index file path, where SQLite creates
// the -wal and -shm files and mqsql the .watch file: it must be the caller's or root's, not a
// link, and only they may add files to it (a sticky directory such as /tmp is refused too:
// another user could put a file of their own there between two of SQLite's opens). Every file
// kept beside an index is opened relative to it, after this check, never before.
func openIndexDir(path string) (*safefile.Dir, error) {
	dir, err := safefile.OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if dir.Shared() {
		dir.Close()
		return nil, fmt.Errorf("index %s: directory %s lets other users create files, where SQLite creates %s-wal and -shm: refused; keep the index in a directory only root writes, such as /var/lib/mqsql", path, dir.Path(), filepath.Base(path))
	}
	return dir, nil
}

// checkFiles checks the index file name in dir and the files SQLite keeps beside it, and
// tightens the mode of those that exist to perm (0777 leaves modes alone: a file is not
// chmod'ed before it is known to be mqsql's).
func checkFiles(dir *safefile.Dir, name string, perm os.FileMode) error {
	for _, suffix := range indexFiles {
		if _, err := dir.Check(name+suffix, perm); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return nil
}

// makePrivate tightens an index file of the caller's that others may read, and its
// companions, to 0600, once migrate knows the file is an mqsql index.
func makePrivate(path string) error {
	if path == "" {
		return nil
	}
	dir, err := safefile.OpenDir(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer dir.Close()
	return checkFiles(dir, filepath.Base(path), 0o600)
}

// migrate creates the tables of schema.sql, or recreates them when the file holds another
// version of mqsql's schema. A database of another program is refused, untouched: only an
// empty file or one whose tables and views all carry names mqsql's schema uses is rebuilt.
func (ix *Index) migrate(ctx context.Context) error {
	var v int32
	if err := ix.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read index version of %s: %w", ix.path, err)
	}
	if v != schemaVersion {
		if err := ix.checkOurs(ctx); err != nil {
			return err
		}
	}
	if err := makePrivate(ix.path); err != nil {
		return err
	}
	if v == schemaVersion && !ix.private {
		return ix.useWAL(ctx)
	}
	if v != schemaVersion {
		if err := ix.rebuild(ctx); err != nil {
			return err
		}
	}
	if !ix.private {
		return ix.useWAL(ctx)
	}
	return ix.deferWAL(ctx)
}

// deferWAL leaves an empty private index in rollback-journal mode for its first load (see
// walPending); one that holds rows already is put in WAL mode at once.
func (ix *Index) deferWAL(ctx context.Context) error {
	var rows int
	if err := ix.db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM queue_files LIMIT 1)").Scan(&rows); err != nil {
		return fmt.Errorf("read index %s: %w", ix.path, err)
	}
	if rows > 0 {
		return ix.useWAL(ctx)
	}
	if _, err := ix.db.ExecContext(ctx, "PRAGMA journal_mode = DELETE"); err != nil {
		return fmt.Errorf("index %s: journal mode: %w", ix.path, err)
	}
	ix.walPending = true
	return nil
}

// useWAL puts a file index in WAL mode, which the file then keeps.
func (ix *Index) useWAL(ctx context.Context) error {
	if ix.path == "" {
		return nil
	}
	if _, err := ix.db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return fmt.Errorf("index %s: WAL mode: %w", ix.path, err)
	}
	return nil
}

// rebuild drops whatever an older schema created and creates schema.sql's tables.
func (ix *Index) rebuild(ctx context.Context) error {
	tables, _ := schemaParts()
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	if err := dropAll(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, tables); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("set index version: %w", err)
	}
	return tx.Commit()
}

// dropAll removes every table and view an older schema created; their indexes and triggers go
// with them.
func dropAll(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return fmt.Errorf("read old schema: %w", err)
	}
	var drops []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			rows.Close()
			return fmt.Errorf("read old schema: %w", err)
		}
		drops = append(drops, fmt.Sprintf("DROP %s IF EXISTS %q", strings.ToUpper(typ), name))
	}
	rows.Close()
	for _, d := range drops {
		if _, err := tx.ExecContext(ctx, d); err != nil {
			return fmt.Errorf("drop old schema: %w", err)
		}
	}
	return nil
}

// schemaParts splits schema.sql into the tables and views, and the secondary indexes that are
// cheaper to build once after a bulk load.
func schemaParts() (tables, indexes string) {
	tables, indexes, _ = strings.Cut(mqsql.Schema, "-- @indexes")
	indexes, _, _ = strings.Cut(indexes, "-- @summaries")
	return tables, afterMarkerLine(indexes)
}

// summariesPart is schema.sql's @summaries part: the running totals rebuilt from the rows,
// and the triggers that keep them.
func summariesPart() string {
	_, s, _ := strings.Cut(mqsql.Schema, "-- @summaries")
	return afterMarkerLine(s)
}

// afterMarkerLine drops the rest of a part marker's comment line.
func afterMarkerLine(part string) string {
	if _, rest, ok := strings.Cut(part, "\n"); ok {
		return rest
	}
	return part
}

// DB returns the database, for queries.
func (ix *Index) DB() *sql.DB { return ix.db }

// Path returns the index file, "" for an in-memory index.
func (ix *Index) Path() string { return ix.path }

// Close closes the database, and removes the file of an index OpenScratch made.
func (ix *Index) Close() error {
	err := ix.db.Close()
	if ix.scratch != "" {
		if rerr := os.RemoveAll(ix.scratch); err == nil && rerr != nil {
			err = fmt.Errorf("remove the temporary index: %w", rerr)
		}
	}
	if ix.release != nil {
		err = errors.Join(err, ix.release())
	}
	return err
}

// memdbLimit is the largest an in-memory index may grow. SQLite's memdb stops at 1 GiB by
// default, which a queue of about 900,000 messages fills; its buffer can grow to just under
// 2 GiB, SQLite's largest single allocation (SQLITE_MAX_ALLOCATION_SIZE), about 1.7 million
// messages. Bigger queues need --db.
const memdbLimit = 2147483391

func init() { raiseMemdbLimit() }

// raiseMemdbLimit sets SQLITE_CONFIG_MEMDB_MAXSIZE the way modernc.org/sqlite itself calls
// sqlite3_config. SQLite accepts it only before its first connection opens, which an init
// function precedes; should it refuse, the default limit stays.
func raiseMemdbLimit() {
	tls := libc.NewTLS()
	defer tls.Close()
	va := libc.Xmalloc(tls, 8)
	if va == 0 {
		return
	}
	defer libc.Xfree(tls, va)
	sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_MEMDB_MAXSIZE, libc.VaList(va, int64(memdbLimit)))
}
