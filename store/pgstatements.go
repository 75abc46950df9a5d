package store

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// statementCounter counts the statements a PostgreSQL pool sends (every
// Exec and Query pgx runs, BEGIN and COMMIT included), so that a benchmark
// can say how many round trips a lifecycle costs: on PostgreSQL each is a
// round trip to the server, and the writer runs them one after the other.
type statementCounter struct{ n atomic.Uint64 }

var _ pgx.QueryTracer = (*statementCounter)(nil)

// TraceQueryStart counts one statement.
func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceQueryEnd does nothing.
func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Statements is how many statements the store has sent to PostgreSQL since
// Open (0 on SQLite, whose statements are calls, not round trips).
func (s *Store) Statements() uint64 {
	if s.stmtCount == nil {
		return 0
	}
	return s.stmtCount.n.Load()
}
