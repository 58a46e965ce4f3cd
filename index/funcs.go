package index

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/sqlfuncs"
	"modernc.org/sqlite"
)

// openDB opens dsn through an SQLite driver of this index's own, carrying mqsql's SQL
// functions. Functions live on a driver and reach every connection it opens; a driver per
// index is what lets header(), body() and postcat() read this index's spool and no other,
// without process-wide state. sql.OpenDB needs no sql.Register, which could not be undone.
func openDB(dsn string, content *sqlfuncs.Source, clock mqsql.Clock) (*sql.DB, error) {
	d := &sqlite.Driver{}
	if err := sqlfuncs.Register(d, content, clock); err != nil {
		return nil, fmt.Errorf("register SQL functions: %w", err)
	}
	return sqlOpen(d, dsn), nil
}

// sqlOpen opens dsn through d.
func sqlOpen(d *sqlite.Driver, dsn string) *sql.DB {
	return sql.OpenDB(connector{driver: d, dsn: dsn})
}

// connector opens connections to one DSN with one driver.
type connector struct {
	driver *sqlite.Driver
	dsn    string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.driver.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.driver }

// Now is the index's clock: what now() and the views take as the present.
func (ix *Index) Now() time.Time { return ix.clock.Now() }

// UseSpool makes header(), body() and postcat() read messages from sp, the spool this index
// mirrors. sp must stay open while the index is queried; the index does not close it. Until
// UseSpool is called those functions fail with an error saying the index has no spool.
func (ix *Index) UseSpool(sp mqsql.Spool) {
	ix.content.Set(sp)
}
