package store

import (
	"context"
	"database/sql/driver"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL driver: github.com/jackc/pgx/v5 through its database/sql
// driver (stdlib), so that every *sql.DB and *sql.Tx path of the store is
// the same on both engines. Two things are added at the driver, below all
// of them: the query texts' ? placeholders become $N (rebind.go), and Go
// bools are sent as 0/1 integers, as SQLite stores them (the flag columns
// are integers on both engines, so that they scan the same).
//
// pgx prepares and caches each statement per connection by its text (its
// default QueryExecModeCacheStatement), and the store's hot statements are
// prepared once on the pool as on SQLite (stmts.go).

// pgConnector opens pgx connections that rebind the store's queries.
type pgConnector struct {
	base  driver.Connector
	binds *rebindCache
}

// newPGConnector returns the connector of a pool on cfg.
func newPGConnector(cfg pgx.ConnConfig) *pgConnector {
	return &pgConnector{base: stdlib.GetConnector(cfg, stdlib.OptionAfterConnect(genericPlans(cfg))), binds: &rebindCache{}}
}

// genericPlans is the pool's after-connect hook: it sets plan_cache_mode
// to force_generic_plan on the connection, unless the database URL sets
// plan_cache_mode itself. The store's statements are prepared once per
// connection and run thousands of times with arguments of one shape (an
// id, a kind and a model, a keyset cursor), and left to itself PostgreSQL
// plans the claim's and the lock's statements again at every run (a
// "custom plan": 0.1-0.3 ms each, measured, about a third of the server's
// time in a job's lifecycle); the generic plan is the same index scan. A
// server without the setting (before PostgreSQL 12) keeps its default.
func genericPlans(cfg pgx.ConnConfig) func(context.Context, *pgx.Conn) error {
	_, set := cfg.RuntimeParams["plan_cache_mode"]
	return func(ctx context.Context, conn *pgx.Conn) error {
		if set {
			return nil
		}
		_, _ = conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan") // best effort, see above
		return nil
	}
}

// Connect opens one connection.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn), binds: c.binds}, nil
}

// Driver is pgx's database/sql driver.
func (c *pgConnector) Driver() driver.Driver { return c.base.Driver() }

// pgConn is a pgx connection whose query texts are rebound and whose bool
// arguments are integers. Everything else is pgx's.
type pgConn struct {
	*stdlib.Conn
	binds *rebindCache
}

var (
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
)

// Prepare prepares query, rebound.
func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(context.Background(), c.binds.get(query))
}

// PrepareContext prepares query, rebound.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, c.binds.get(query))
}

// ExecContext runs query, rebound.
func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, c.binds.get(query), args)
}

// QueryContext runs query, rebound.
func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, c.binds.get(query), args)
}

// CheckNamedValue sends bools (and types whose kind is bool) as 0/1
// integers; database/sql calls it for statements too. Every other value
// goes to pgx as it is.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case bool:
		nv.Value = boolInt(v)
	case nil, int64, int, string, []byte, float64:
	default:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Bool {
			nv.Value = boolInt(rv.Bool())
		}
	}
	return nil
}

// boolInt is b as SQLite stores it.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
