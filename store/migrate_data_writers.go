package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The target's side of CopyData: one transaction, into which each table's
// rows are streamed from the source. On SQLite, multi-row INSERTs of at
// most copyBatchRows rows; on PostgreSQL, the COPY protocol (pgx's
// CopyFrom) on the pool's connection, which streams rows to the server as
// they are read, in 64 KiB messages, and is several times cheaper than
// INSERTs on both sides.

// copyWriter writes the copy in the target's transaction.
type copyWriter interface {
	// exec runs a statement and returns the rows it changed.
	exec(ctx context.Context, query string, args ...any) (int64, error)
	// copyRows writes every row src yields into src's table and returns
	// how many.
	copyRows(ctx context.Context, src *sourceRows) (int64, error)
}

// withCopyWriter runs fn in one write transaction of s, committed if fn
// returns nil and rolled back otherwise.
func (s *Store) withCopyWriter(ctx context.Context, fn func(copyWriter) error) error {
	if s.eng != postgresEngine {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return unavailable(fmt.Errorf("begin the target's transaction: %w", err))
		}
		if err := fn(sqlWriter{tx: tx}); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return unavailable(fmt.Errorf("commit the copy: %w", err))
		}
		return nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return unavailable(fmt.Errorf("connect to the target: %w", err))
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return fmt.Errorf("the target's connection is a %T, not the store's pgx connection", dc)
		}
		tx, err := pc.Conn.Conn().Begin(ctx)
		if err != nil {
			return unavailable(fmt.Errorf("begin the target's transaction: %w", err))
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit, a no-op
		if err := fn(pgxWriter{tx: tx}); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return unavailable(fmt.Errorf("commit the copy: %w", err))
		}
		return nil
	})
}

// sourceRows streams one table's rows from the source, each converted to
// the target's column types (convertValue). It is a pgx.CopyFromSource.
type sourceRows struct {
	t    plannedTable
	dst  engine
	rows *sql.Rows
	vals []any // what the source's driver read
	ptrs []any // &vals[i]
	out  []any // the row for the target, reused from row to row
	n    int64
	err  error
}

var _ pgx.CopyFromSource = (*sourceRows)(nil)

// readSource starts reading t's rows from the source; the caller closes
// the result.
func readSource(ctx context.Context, srcTx *sql.Tx, t plannedTable, dst engine) (*sourceRows, error) {
	rows, err := srcTx.QueryContext(ctx, `SELECT `+columnList(t.cols)+` FROM `+quoteIdent(t.name))
	if err != nil {
		return nil, unavailable(fmt.Errorf("read the source's %s: %w", t.name, err))
	}
	sr := &sourceRows{t: t, dst: dst, rows: rows,
		vals: make([]any, len(t.cols)), ptrs: make([]any, len(t.cols)), out: make([]any, len(t.cols))}
	for i := range sr.vals {
		sr.ptrs[i] = &sr.vals[i]
	}
	return sr, nil
}

// Next reports whether there is another row.
func (sr *sourceRows) Next() bool { return sr.err == nil && sr.rows.Next() }

// Values reads and converts the current row.
func (sr *sourceRows) Values() ([]any, error) {
	if err := sr.rows.Scan(sr.ptrs...); err != nil {
		sr.err = fmt.Errorf("read the source's %s: %w", sr.t.name, err)
		return nil, sr.err
	}
	for i, c := range sr.t.cols {
		v, err := convertValue(sr.vals[i], c.kind, sr.dst)
		if err != nil {
			sr.err = fmt.Errorf("%s.%s of the row whose %s is %v: %w", sr.t.name, c.name, sr.t.cols[0].name, sr.vals[0], err)
			return nil, sr.err
		}
		sr.out[i] = v
	}
	sr.n++
	return sr.out, nil
}

// Err is the first error reading or converting a row.
func (sr *sourceRows) Err() error {
	if sr.err != nil {
		return sr.err
	}
	if err := sr.rows.Err(); err != nil {
		return unavailable(fmt.Errorf("read the source's %s: %w", sr.t.name, err))
	}
	return nil
}

// Close ends the read.
func (sr *sourceRows) Close() error { return sr.rows.Close() }

// copyTableRows streams t's rows from the source into w and returns how
// many it copied.
func copyTableRows(ctx context.Context, srcTx *sql.Tx, w copyWriter, dst engine, t plannedTable) (int64, error) {
	sr, err := readSource(ctx, srcTx, t, dst)
	if err != nil {
		return 0, err
	}
	defer sr.Close()
	n, err := w.copyRows(ctx, sr)
	if err == nil {
		err = sr.Err()
	}
	if err != nil {
		if sr.err != nil {
			return 0, sr.err // the source's or a conversion's, not the writer's report of it
		}
		return 0, fmt.Errorf("write %s: %w", t.name, err)
	}
	if n != sr.n {
		return 0, fmt.Errorf("write %s: %d rows read, %d written", t.name, sr.n, n)
	}
	return n, nil
}

// sqlWriter writes on SQLite, in multi-row INSERTs.
type sqlWriter struct{ tx *sql.Tx }

func (w sqlWriter) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := w.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (w sqlWriter) copyRows(ctx context.Context, src *sourceRows) (int64, error) {
	t := src.t
	ncols := len(t.cols)
	perBatch := max(1, min(copyBatchRows, copyBatchParams/ncols))
	head := `INSERT INTO ` + quoteIdent(t.name) + ` (` + columnList(t.cols) + `) VALUES `
	// A full batch's statement is prepared once (SQLite would parse its
	// thousands of placeholders again for each); a short one is sent as is.
	full, err := w.tx.PrepareContext(ctx, head+valuesList(perBatch, ncols))
	if err != nil {
		return 0, fmt.Errorf("prepare the copy of %s: %w", t.name, err)
	}
	defer full.Close()
	args := make([]any, 0, perBatch*ncols)
	var n int64
	inBatch, size := 0, 0
	flush := func() error {
		if inBatch == 0 {
			return nil
		}
		var err error
		if inBatch == perBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = w.tx.ExecContext(ctx, head+valuesList(inBatch, ncols), args...)
		}
		if err != nil {
			return fmt.Errorf("rows %d to %d of the copy: %w", n+1, n+int64(inBatch), err)
		}
		n += int64(inBatch)
		args, inBatch, size = args[:0], 0, 0
		return nil
	}
	for src.Next() {
		row, err := src.Values()
		if err != nil {
			return n, err
		}
		for _, v := range row {
			args = append(args, v)
			size += valueSize(v)
		}
		inBatch++
		if inBatch == perBatch || size >= copyBatchBytes {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := src.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// pgxWriter writes on PostgreSQL, with COPY.
type pgxWriter struct{ tx pgx.Tx }

func (w pgxWriter) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := w.tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (w pgxWriter) copyRows(ctx context.Context, src *sourceRows) (int64, error) {
	names := make([]string, len(src.t.cols))
	for i, c := range src.t.cols {
		names[i] = c.name
	}
	return w.tx.CopyFrom(ctx, pgx.Identifier{src.t.name}, names, src)
}

// columnList is the quoted names of cols, comma-separated.
func columnList(cols []column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	return strings.Join(names, ", ")
}
