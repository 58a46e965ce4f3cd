package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// Guard stands between a user's SQL and the index on one connection. The index is a mirror of
// the spool, so the user's SQL may read it but never change it; the only writes allowed are
// DELETE FROM messages and UPDATE messages SET queue / forced_expire, which TEMP triggers turn
// into a plan of spool operations instead of changes to rows. An SQLite authorizer enforces
// this while each statement is prepared, before anything runs.
type Guard struct {
	conn *sql.Conn

	mu    sync.Mutex
	state authState
	// internal is true while the guard runs its own statements on the plan table.
	internal bool

	// Observe, when set, sees each statement Classify accepts, before it runs: mqsql uses it
	// to explain what a statement reads (events in a run that no watcher keeps).
	Observe func(Statement)
}

// authState is what the authorizer saw while one statement was prepared.
type authState struct {
	deleteMessages bool
	updateColumns  []string
	denied         string // why the statement is refused; "" when it is not
	tables         []string
}

// read records that the statement reads table of the index, once.
func (a *authState) read(table string) {
	table = strings.ToLower(table)
	for _, t := range a.tables {
		if t == table {
			return
		}
	}
	a.tables = append(a.tables, table)
}

// Kind classifies a statement.
type Kind int

const (
	// Read statements only read the index (or the session's own TEMP scratch tables).
	Read Kind = iota
	// Delete statements are DELETE FROM messages.
	Delete
	// Update statements are UPDATE messages SET queue and/or forced_expire.
	Update
)

// Statement is a classified statement. It holds the statement SQLite prepared while it was
// classified, so that what runs is exactly what was checked, never the text parsed again.
type Statement struct {
	SQL     string
	Kind    Kind
	Columns []string // for Update: the columns it sets
	Tables  []string // the index's tables it reads (lower case), through views too

	prepared *sql.Stmt
}

// Query runs the classified statement and returns its rows.
func (st Statement) Query(ctx context.Context) (*sql.Rows, error) {
	if st.prepared == nil {
		return nil, errors.New("index: statement was not classified")
	}
	return st.prepared.QueryContext(ctx)
}

// exec runs the classified statement for its effect (the plan triggers).
func (st Statement) exec(ctx context.Context) error {
	if st.prepared == nil {
		return errors.New("index: statement was not classified")
	}
	_, err := st.prepared.ExecContext(ctx)
	return err
}

// Close releases the prepared statement.
func (st Statement) Close() error {
	if st.prepared == nil {
		return nil
	}
	return st.prepared.Close()
}

// ErrDenied reports a statement the guard refuses; its message says what is allowed.
var ErrDenied = errors.New("index: statement not allowed")

// The columns an UPDATE may set, and the TEMP objects that record write statements.
var updatableColumns = map[string]bool{"queue": true, "forced_expire": true}

const (
	planTable      = "mqsql_plan"
	deleteTrigger  = "mqsql_plan_delete"
	updateTrigger  = "mqsql_plan_update"
	allowedWritesH = "only DELETE FROM messages and UPDATE messages SET queue = ... or SET forced_expire = 1 change anything, and they act on the spool"
)

// NewGuard creates the session's TEMP plan table and triggers on conn and installs the
// authorizer. From then on every statement on conn must go through Classify first.
func NewGuard(ctx context.Context, conn *sql.Conn) (*Guard, error) {
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS ` + planTable + ` (queue_id TEXT, queue TEXT, inode INTEGER,
			arrival_time INTEGER, path TEXT, sender TEXT, subject TEXT, forced_expire INTEGER,
			new_queue, new_forced_expire)`,
		`CREATE TEMP TRIGGER IF NOT EXISTS ` + deleteTrigger + ` INSTEAD OF DELETE ON main.messages BEGIN
			INSERT INTO temp.` + planTable + ` VALUES (OLD.queue_id, OLD.queue, OLD.inode, OLD.arrival_time,
			OLD.path, OLD.sender, OLD.subject, OLD.forced_expire, NULL, NULL); END`,
		`CREATE TEMP TRIGGER IF NOT EXISTS ` + updateTrigger + ` INSTEAD OF UPDATE ON main.messages BEGIN
			INSERT INTO temp.` + planTable + ` VALUES (OLD.queue_id, OLD.queue, OLD.inode, OLD.arrival_time,
			OLD.path, OLD.sender, OLD.subject, OLD.forced_expire, NEW.queue, NEW.forced_expire); END`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("prepare session: %w", err)
		}
	}
	// Writes to recipients get triggers too, only so that the authorizer sees them (SQLite
	// rejects a write to a view without one before asking) and can say what to do instead.
	for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
		q := fmt.Sprintf(`CREATE TEMP TRIGGER IF NOT EXISTS mqsql_recipients_%s INSTEAD OF %s ON main.recipients
			BEGIN SELECT RAISE(ABORT, 'recipients cannot be changed'); END`, strings.ToLower(ev), ev)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("prepare session: %w", err)
		}
	}
	g := &Guard{conn: conn}
	err := conn.Raw(func(dc any) error {
		r, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return errors.New("the sqlite driver cannot install an authorizer")
		}
		return r.RegisterAuthorizer(g.authorize)
	})
	if err != nil {
		return nil, fmt.Errorf("prepare session: %w", err)
	}
	return g, nil
}

// Classify prepares stmt (running nothing) and says what it is. A statement that would change
// the index, attach files, load extensions or change settings is refused with ErrDenied, and so
// is text that is not exactly one statement: SQLite prepares only the first statement of a text
// and stops reading at a NUL byte, so whatever lies beyond would escape the check or the
// checks mqsql makes on the text (a WHERE after a NUL is not there for SQLite). The caller
// runs the returned statement and closes it.
func (g *Guard) Classify(ctx context.Context, stmt string) (Statement, error) {
	if err := oneStatement(stmt); err != nil {
		return Statement{}, fmt.Errorf("%w: %v", ErrDenied, err)
	}
	g.mu.Lock()
	g.state = authState{}
	g.mu.Unlock()
	prepared, err := g.conn.PrepareContext(ctx, stmt)
	g.mu.Lock()
	st := g.state
	g.mu.Unlock()
	if st.denied != "" {
		if prepared != nil {
			prepared.Close()
		}
		return Statement{}, fmt.Errorf("%w: %s", ErrDenied, st.denied)
	}
	if err != nil {
		return Statement{}, err
	}
	c := Statement{SQL: stmt, Kind: Read, Tables: st.tables, prepared: prepared}
	switch {
	case st.deleteMessages:
		c.Kind = Delete
	case len(st.updateColumns) > 0:
		c.Kind, c.Columns = Update, st.updateColumns
	}
	if g.Observe != nil {
		g.Observe(c)
	}
	return c, nil
}

// oneStatement says why text is not one whole statement that SQLite reads to its end: it has
// a NUL byte, or SQL after its first statement.
func oneStatement(text string) error {
	if i := strings.IndexByte(text, 0); i >= 0 {
		return fmt.Errorf("the statement has a NUL byte at offset %d; SQLite would stop reading there and ignore the rest, so it is not run", i)
	}
	if end := statementEnd(text); !onlySpace(text[end:]) {
		return fmt.Errorf("only one statement can be run at a time; this text goes on after the statement that ends at offset %d", end)
	}
	return nil
}

// authorize is the SQLite authorizer of the session connection.
func (g *Guard) authorize(action sqlite.AuthorizerActionCode, arg1, arg2, db, trigger string) sqlite.AuthorizerReturnCode {
	g.mu.Lock()
	defer g.mu.Unlock()
	reason := g.check(action, arg1, arg2, db, trigger)
	if reason == "" {
		return sqlite.AuthorizerOK
	}
	if g.state.denied == "" {
		g.state.denied = reason
	}
	return sqlite.AuthorizerDeny
}

// check returns "" to allow an action, or why it is refused.
func (g *Guard) check(action sqlite.AuthorizerActionCode, arg1, arg2, db, trigger string) string {
	if g.internal {
		return ""
	}
	switch action {
	case sqlite.AuthRead:
		if db == "main" {
			g.state.read(arg1)
		}
		return ""
	case sqlite.AuthSelect, sqlite.AuthTransaction, sqlite.AuthSavepoint, sqlite.AuthRecursive:
		return ""
	case sqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return "loading extensions is not allowed"
		}
		return ""
	case sqlite.AuthPragma:
		return checkPragma(arg1, arg2)
	case sqlite.AuthAttach, sqlite.AuthDetach:
		return "ATTACH and DETACH are not allowed: mqsql reads only its own index"
	case sqlite.AuthDelete, sqlite.AuthInsert, sqlite.AuthUpdate:
		return g.checkWrite(action, arg1, arg2, db, trigger)
	case sqlite.AuthCreateTempTable, sqlite.AuthCreateTempView, sqlite.AuthCreateTempIndex,
		sqlite.AuthDropTempTable, sqlite.AuthDropTempView, sqlite.AuthDropTempIndex:
		if strings.EqualFold(arg1, planTable) {
			return "mqsql's own plan table cannot be changed"
		}
		return "" // scratch objects of this session only
	}
	return "the index is read-only: " + allowedWritesH
}

// checkWrite allows the two write statements on messages, the plan triggers' inserts, and
// writes to the session's own TEMP scratch tables.
func (g *Guard) checkWrite(action sqlite.AuthorizerActionCode, table, column, db, trigger string) string {
	if trigger == deleteTrigger || trigger == updateTrigger {
		if db == "temp" && strings.EqualFold(table, planTable) {
			return ""
		}
		return "unexpected write from mqsql's plan trigger"
	}
	if db == "temp" && !strings.EqualFold(table, planTable) {
		return "" // the session's scratch tables and the TEMP schema itself
	}
	if db == "main" && strings.EqualFold(table, "messages") && trigger == "" {
		switch action {
		case sqlite.AuthDelete:
			g.state.deleteMessages = true
			return ""
		case sqlite.AuthUpdate:
			if !updatableColumns[strings.ToLower(column)] {
				return fmt.Sprintf("column %s cannot be changed: UPDATE messages may set only queue (to a value the MTA offers) or forced_expire (1)", column)
			}
			g.state.updateColumns = append(g.state.updateColumns, strings.ToLower(column))
			return ""
		default:
			return "INSERT INTO messages is not possible: mail enters the queue through Postfix"
		}
	}
	if strings.EqualFold(table, "recipients") {
		return "recipients cannot be changed: delete or update the message in messages instead"
	}
	return fmt.Sprintf("%s cannot be changed: %s", table, allowedWritesH)
}

// readOnlyPragmas are the pragmas a session may run: those that only describe the schema or
// the database.
var readOnlyPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "function_list": true, "pragma_list": true,
	"module_list": true, "collation_list": true, "database_list": true, "compile_options": true,
	"encoding": true, "page_count": true, "page_size": true, "freelist_count": true,
	"integrity_check": true, "quick_check": true, "data_version": true, "user_version": true,
}

func checkPragma(name, value string) string {
	if value == "" && readOnlyPragmas[strings.ToLower(name)] {
		return ""
	}
	return fmt.Sprintf("PRAGMA %s is not allowed: the index's settings are mqsql's", name)
}

// own runs one of the guard's statements on the plan table, which users cannot write.
func (g *Guard) own(ctx context.Context, query string) error {
	var err error
	g.internally(func() { _, err = g.conn.ExecContext(ctx, query) })
	return err
}

// internally runs fn with the authorizer letting the guard's own statements through.
func (g *Guard) internally(fn func()) {
	g.mu.Lock()
	g.internal = true
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.internal = false
		g.mu.Unlock()
	}()
	fn()
}
