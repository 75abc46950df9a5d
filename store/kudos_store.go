package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hordebot/hordebot/kudos"
)

var _ kudos.Store = (*Store)(nil)

// standingsChunk bounds the ids of one IN (...) list.
const standingsChunk = 500

// Standings returns the standing (flagged, moderator) of each known user
// among ids; unknown ids are absent.
func (s *Store) Standings(ctx context.Context, ids []int64) (map[int64]kudos.Standing, error) {
	out := make(map[int64]kudos.Standing, len(ids))
	for start := 0; start < len(ids); start += standingsChunk {
		chunk := ids[start:min(start+standingsChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := `SELECT id, flagged, moderator FROM users WHERE id IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		if err := s.scanStandings(ctx, q, args, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) scanStandings(ctx context.Context, q string, args []any, out map[int64]kudos.Standing) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read standings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st kudos.Standing
		if err := rows.Scan(&st.UserID, &st.Flagged, &st.Moderator); err != nil {
			return fmt.Errorf("read standings: %w", err)
		}
		out[st.UserID] = st
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read standings: %w", err)
	}
	return nil
}

// txStmts prepares each query once per transaction when a call runs it many
// times (a batch of awards or settlements), and runs it unprepared otherwise.
type txStmts struct {
	tx      *sql.Tx
	prepare bool
	stmts   map[string]*sql.Stmt
}

func newTxStmts(tx *sql.Tx, n int) *txStmts {
	return &txStmts{tx: tx, prepare: n >= 8, stmts: map[string]*sql.Stmt{}}
}

func (t *txStmts) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	t.stmts[q] = st
	return st, nil
}

func (t *txStmts) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if !t.prepare {
		return t.tx.ExecContext(ctx, q, args...)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *txStmts) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if !t.prepare {
		return t.tx.QueryRowContext(ctx, q, args...)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		// Let the unprepared query report the same failure through Scan.
		return t.tx.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// close releases the prepared statements; the transaction closes them too.
func (t *txStmts) close() {
	for _, st := range t.stmts {
		_ = st.Close()
	}
}
