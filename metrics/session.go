package metrics

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/mqsql/mqsql/index"
	"modernc.org/sqlite"
)

// session is one SQL-defined metric's own connection to the index, guarded as the REPL's is,
// with the metric's statement classified and prepared on it. A connection that a timeout
// interrupted may be unusable afterwards (database/sql drops an interrupted file connection),
// so a failed run closes the session and the next scrape opens a new one.
type session struct {
	conn  *sql.Conn
	guard *index.Guard
	stmt  index.Statement
}

// errNotRead is a query that would do more than read.
var errNotRead = errors.New("the query is not read-only: a metric's query may only read the index (DELETE and UPDATE act on the spool)")

// selectStart is how a query must begin: a metric is the rows of a SELECT.
var selectStart = regexp.MustCompile(`(?is)^\s*(select|with|values)\b`)

// openSession opens a guarded connection and classifies query on it: refused unless it is a
// statement that only reads.
func openSession(ctx context.Context, ix *index.Index, query string) (*session, error) {
	if !selectStart.MatchString(query) {
		return nil, errors.New("the query must be a SELECT (or WITH ... SELECT, or VALUES)")
	}
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open a connection to the index: %w", err)
	}
	s, err := classifyOn(ctx, conn, query)
	if err != nil {
		release(conn)
		return nil, err
	}
	return s, nil
}

func classifyOn(ctx context.Context, conn *sql.Conn, query string) (*session, error) {
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		return nil, err
	}
	st, err := g.Classify(ctx, query)
	if err != nil {
		return nil, err
	}
	if st.Kind != index.Read {
		st.Close()
		return nil, errNotRead
	}
	return &session{conn: conn, guard: g, stmt: st}, nil
}

// columns returns the names of the columns query returns, running it with LIMIT 0 under the
// same guard, so that nothing is computed.
func (s *session) columns(ctx context.Context, query string) ([]string, error) {
	st, err := s.guard.Classify(ctx, "SELECT * FROM (\n"+query+"\n) LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rows, err := st.Query(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

func (s *session) close() {
	s.stmt.Close()
	release(s.conn)
}

// release gives conn back to the index's pool as it was before the session: without the
// guard's authorizer and TEMP objects, which would refuse the watcher's own writes on it. A
// connection that cannot be cleaned is closed for good instead. (Closing every one would lose
// an in-memory index, which lives as long as one of its connections.)
func release(conn *sql.Conn) {
	err := conn.Raw(func(dc any) error {
		r, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return driver.ErrBadConn
		}
		if r.RegisterAuthorizer(nil) != nil {
			return driver.ErrBadConn
		}
		return nil
	})
	if err == nil && dropTemp(conn) != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

// dropTemp drops the session's TEMP tables, views and triggers (the guard's plan table).
func dropTemp(conn *sql.Conn) error {
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT type, name FROM sqlite_temp_master WHERE type IN ('table', 'view', 'trigger') ORDER BY type = 'table'`)
	if err != nil {
		return err
	}
	var drops []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			rows.Close()
			return err
		}
		drops = append(drops, fmt.Sprintf("DROP %s IF EXISTS temp.%q", strings.ToUpper(typ), name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, q := range drops {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// labelNames checks the columns of a query: at least one (the value), and every other a
// distinct valid label name, which the columns before the last become.
func labelNames(cols []string) ([]string, error) {
	if len(cols) == 0 {
		return nil, errors.New("the query returns no columns; its last column must be the value")
	}
	labels := cols[:len(cols)-1]
	seen := map[string]bool{}
	for i, l := range labels {
		// SQLite names a repeated column "name:1" when it reads the query as a subquery.
		if base, n, ok := strings.Cut(l, ":"); ok && seen[base] && strings.Trim(n, "0123456789") == "" {
			l = base
		}
		if seen[l] {
			return nil, fmt.Errorf("two columns are named %q: each label needs its own name", l)
		}
		if !labelName.MatchString(l) || strings.HasPrefix(l, "__") {
			return nil, fmt.Errorf("column %d, %q, is not a valid label name (letters, digits and _, not starting with a digit or __): name it with AS", i+1, l)
		}
		seen[l] = true
	}
	return labels, nil
}
