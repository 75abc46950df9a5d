package store

import (
	"context"
	"database/sql"
	"fmt"
)

// writeQueries are prepared once on the writer connection: the statements
// of the hot write paths (CreateRequest, StartJob, FinishJob, FailJob,
// Apply) and the group
// commit's savepoints. Any other query text runs unprepared.
var writeQueries = []string{
	"SAVEPOINT op", "ROLLBACK TO op", "RELEASE op",
	qInsertEntry, qAddBalance, qAddBalanceFloor, qBalance, qInsertHold,
	qInsertRequest, qInsertItems, qStartRequest, qStartItem, qInsertJob,
	qFinishJob, qFinishItem, qSetRequestState, qInsertGeneration,
	qFailJob, qRequeueItem, qAddFault, qDeleteUpload, qDeleteJobPreview,
	qJobState, qRequestState,
}

// readQueries are prepared on the read pool: lookups on every API call.
var readQueries = []string{
	qCredential, qBalance, qSelectJob, qSelectRequest,
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

// exec runs query in tx, with its prepared statement when there is one.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.wstmts[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow runs a one-row query in tx, prepared when possible.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, ok := s.wstmts[query]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// readRow runs a one-row query on the read pool, prepared when possible.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.rstmts[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}
