package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// Test hooks for the external tests (package store_test) that look at or
// change what the store keeps behind its back, on either engine.

// StoredBlobs lists the refs of the stored blobs, sorted, and their total
// size: the blob folder's files on SQLite, the backend's blobs otherwise.
func StoredBlobs(ctx context.Context, s *Store) ([]string, int64, error) {
	var refs []string
	var total int64
	if s.remote != nil {
		err := s.remote.ListBlobs(ctx, func(b BlobInfo) error {
			refs = append(refs, b.Ref)
			total += b.Size
			return nil
		})
		return refs, total, err
	}
	err := filepath.WalkDir(s.blobs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			refs = append(refs, d.Name())
			total += fi.Size()
		}
		return nil
	})
	sort.Strings(refs)
	return refs, total, err
}

// BackdateBlob makes the blob at ref look written at at (its file's
// modification time, or the blobs table's at on PostgreSQL).
func BackdateBlob(ctx context.Context, s *Store, ref string, at time.Time) error {
	if _, ok := s.remote.(*pgBlobs); ok {
		_, err := s.w.ExecContext(ctx, `UPDATE blobs SET at = ? WHERE ref = ?`, nanos(at), ref)
		return err
	}
	return os.Chtimes(filepath.Join(s.blobs, ref[:2], ref), at, at)
}

// TamperBlob replaces the bytes stored at ref with data.
func TamperBlob(ctx context.Context, s *Store, ref string, data []byte) error {
	if _, ok := s.remote.(*pgBlobs); ok {
		_, err := s.w.ExecContext(ctx, `UPDATE blobs SET data = ?, size = ? WHERE ref = ?`, data, len(data), ref)
		return err
	}
	return os.WriteFile(filepath.Join(s.blobs, ref[:2], ref), data, 0o640)
}

// RawExec runs query on the store's database outside the writer.
func RawExec(ctx context.Context, s *Store, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, query, args...)
	return err
}

// LeaseHolder returns the server process id and application_name of the
// session holding lease name on s's database and schema, 0 when no session
// holds it (PostgreSQL only).
func LeaseHolder(ctx context.Context, s *Store, name string) (int, string, error) {
	var database, schema string
	if err := s.r.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&database, &schema); err != nil {
		return 0, "", err
	}
	var pid int
	var app string
	err := s.r.QueryRowContext(ctx, `SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
AND ((l.classid::bigint << 32) | l.objid::bigint) = ?`, LeaseKey(database, schema, name)).Scan(&pid, &app)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return pid, app, err
}

// SetLeaseIdle sets the idle_session_timeout of l's session (before its
// first Hold): a test of a holder that stops pinging.
func SetLeaseIdle(l *Leases, d time.Duration) { l.idle = d }

// RawQuery runs query on the store's database (the read pool).
func RawQuery(ctx context.Context, s *Store, query string, args ...any) (*sql.Rows, error) {
	return s.r.QueryContext(ctx, query, args...)
}

// CopyTableNames are the tables CopyData knows, in its order.
func CopyTableNames() []string {
	out := make([]string, len(copyTables))
	for i, t := range copyTables {
		out[i] = t.name
	}
	return out
}

// SetStatsPruneBatch makes one prune write of the generation stats remove
// at most n rows, until the returned func restores the size.
func SetStatsPruneBatch(n int) (restore func()) {
	old := statsPruneBatch
	statsPruneBatch = n
	return func() { statsPruneBatch = old }
}

// UnpreparedWrites is how many statements s's writer ran without a
// prepared statement since Open.
func UnpreparedWrites(s *Store) uint64 { return s.unprepared.Load() }

// HoldFinish runs f as FinishJob does, in a write transaction of s of its
// own that then waits, uncommitted, until release is called: one process's
// group commit caught between a finish and its commit, with the rows that
// finish changed still locked (PostgreSQL). It returns once the finish has
// run, with the server process id of the transaction's session; release
// lets the transaction commit and returns the write's error (each call
// the same).
func HoldFinish(ctx context.Context, s *Store, f horde.JobFinish) (pid int, release func() error, err error) {
	j, g, meta, err := s.finishOf(f)
	if err != nil {
		return 0, nil, err
	}
	ran := make(chan error, 1)
	resume := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.writeAlone(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := s.finishJobTx(ctx, tx, j, g, meta, f)
			if err == nil {
				err = tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
			}
			ran <- err
			if err != nil {
				return err
			}
			<-resume
			return nil
		})
	}()
	if err := <-ran; err != nil {
		<-done
		return 0, nil, err
	}
	var once sync.Once
	var result error
	return pid, func() error { // once: a test's failure path and its cleanup both release
		once.Do(func() {
			close(resume)
			result = <-done
		})
		return result
	}, nil
}

// Write is s.write: fn in the writer's group commit.
func Write(ctx context.Context, s *Store, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.write(ctx, fn)
}

// WriteAlone is s.writeAlone: fn in a transaction of its own.
func WriteAlone(ctx context.Context, s *Store, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.writeAlone(ctx, fn)
}

// ErrClosedForTest is the error of a write after Close.
var ErrClosedForTest error = errClosed
