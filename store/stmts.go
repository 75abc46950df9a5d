package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
)

// writeQueries are prepared once on the writer connection: the statements
// of the hot write paths (CreateRequest, StartJob, FinishJob, FailJob,
// Apply) and the group
// commit's savepoints. Any other query text runs unprepared.
var writeQueries = []string{
	"SAVEPOINT op", "ROLLBACK TO op", "RELEASE op",
	qInsertEntry, qAddBalance, qAddBalanceFloor, qBalance, qAddLedgerDay, qAddLedgerTotal, qInsertHold,
	qInsertRequest, qInsertItems, qStartRequest, qStartItem, qInsertJob,
	qFinishJob, qFinishItem, qSetRequestState, qInsertGeneration, qInsertGenerationStat, qAddGenerationTotal,
	qFailJob, qRequeueItem, qAddFault, qDeleteUpload, qSpendSharedKey, qDeleteJobPreview,
	qJobState, qRequestState, qJobPlace, qJobPlaceState, qJobUpload, qDeleteJobUpload,
	qCountWorkerJob, qRequestKindParams, qCountUserRequest,
}

// postgresWriteQueries are writeQueries and PostgreSQL's own hot writes.
var postgresWriteQueries = append(writeQueries[:len(writeQueries):len(writeQueries)], qAddFreeGenerationTotal, qAddNewGenerationTotal)

// readQueries are prepared on the read pool: lookups on every API call.
var readQueries = []string{
	qCredential, qBalance, qSelectJob, qSelectRequest, qPopMessages,
}

// prepareAll prepares queries on db.
func prepareAll(ctx context.Context, db *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		if _, ok := m[q]; ok {
			continue
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			for _, p := range m {
				p.Close()
			}
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		m[q] = st
	}
	return m, nil
}

// boundStmts are the prepared statements bound to the writer's current
// transaction: binding one (tx.StmtContext) allocates, and a group commit
// runs the same few statements many times. Only the writer goroutine
// touches it: tryBatch and tryBatchWhole set tx when they begin one and
// clear it when it ends. tx is read by any goroutine (writeAlone's
// transactions run beside the writer's and are never it).
type boundStmts struct {
	tx atomic.Pointer[sql.Tx]
	m  map[*sql.Stmt]*sql.Stmt
}

// begin makes tx the transaction whose bound statements are kept.
func (c *boundStmts) begin(tx *sql.Tx) {
	c.tx.Store(tx)
	if c.m == nil {
		c.m = make(map[*sql.Stmt]*sql.Stmt)
	}
}

// end forgets the statements of the transaction that ended (database/sql
// closed them with it).
func (c *boundStmts) end() {
	c.tx.Store(nil)
	clear(c.m)
}

// writeStmt is query's prepared statement bound to tx, or nil when query
// has none.
func (s *Store) writeStmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	p, ok := s.wstmts[query]
	if !ok {
		return nil
	}
	if c := &s.bound; tx == c.tx.Load() {
		st, ok := c.m[p]
		if !ok {
			st = tx.StmtContext(ctx, p)
			c.m[p] = st
		}
		return st
	}
	return tx.StmtContext(ctx, p)
}

// exec runs query in tx, with its prepared statement when there is one.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.writeStmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	s.unprepared.Add(1)
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow runs a one-row query in tx, prepared when possible.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.writeStmt(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	s.unprepared.Add(1)
	return tx.QueryRowContext(ctx, query, args...)
}

// preparedReads is the read pool as a querier that runs the queries of
// readQueries with their prepared statements (no parse per call).
type preparedReads struct{ s *Store }

func (p preparedReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := p.s.rstmts[query]; ok {
		return st.QueryContext(ctx, args...)
	}
	return p.s.r.QueryContext(ctx, query, args...)
}

// reads is the read pool, prepared where possible.
func (s *Store) reads() querier { return preparedReads{s} }

// readRow runs a one-row query on the read pool, prepared when possible.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.rstmts[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}
