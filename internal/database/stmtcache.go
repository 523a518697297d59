package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"

	"modernc.org/sqlite"
)

// SQLite spends a large share of every short query compiling its text
// (a tenth of the bridge's CPU under load, measured), and database/sql
// prepares anew for each DB.ExecContext and DB.QueryContext. Neither
// modernc's driver nor database/sql keeps statements between calls, so
// this wrapper does: each connection keeps its prepared statements by query
// text and reuses them. A statement whose rows are still being read is not
// reused meanwhile (the query is prepared afresh); scripts of several
// statements are never cached.

// maxCachedStatements bounds each connection's cache; past it, new queries
// run uncached (Switchboard has a few hundred distinct queries at most).
const maxCachedStatements = 512

// cachingConnector opens modernc connections wrapped in a statement cache.
type cachingConnector struct {
	dsn string
	drv *sqlite.Driver
}

func (c *cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

func (c *cachingConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what modernc's connections implement.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachingConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	reading bool // rows from it are open
}

func newCachingConn(conn driver.Conn) (driver.Conn, error) {
	sc, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("the SQLite driver's connections lack an interface the statement cache needs")
	}
	return &cachingConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

// cached returns query's statement, preparing and keeping it on first use;
// nil when it cannot be used now (its rows are open, the cache is full, or
// query is a script).
func (c *cachingConn) cached(ctx context.Context, query string) (*cachedStmt, error) {
	if cs := c.stmts[query]; cs != nil {
		if cs.reading {
			return nil, nil
		}
		return cs, nil
	}
	if len(c.stmts) >= maxCachedStatements || strings.Contains(strings.TrimRight(strings.TrimSpace(query), ";"), ";") {
		return nil, nil
	}
	s, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		_ = s.Close()
		return nil, nil
	}
	cs := &cachedStmt{stmt: st}
	c.stmts[query] = cs
	return cs, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	if _, ok := rows.(modernRows); !ok {
		return rows, nil // not expected; served as is, the statement stays free
	}
	cs.reading = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

func (c *cachingConn) Close() error {
	for _, cs := range c.stmts {
		_ = cs.stmt.Close()
	}
	c.stmts = nil
	return c.sqliteConn.Close()
}

// cachedRows frees its statement for reuse when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.reading = false
	return err
}

// modernRows is what modernc's rows implement besides driver.Rows; they
// are passed through so database/sql sees the same column types as without
// the cache.
type modernRows interface {
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(modernRows).ColumnTypeDatabaseTypeName(i)
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	return r.Rows.(modernRows).ColumnTypeLength(i)
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	return r.Rows.(modernRows).ColumnTypeNullable(i)
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.Rows.(modernRows).ColumnTypePrecisionScale(i)
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(modernRows).ColumnTypeScanType(i)
}
