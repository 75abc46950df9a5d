package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hordebot/hordebot/horde"
)

// A SQLite store opened with Options.Exclusive: one connection in SQLite's
// exclusive locking mode, set before the database is first read so that the
// WAL index lives in the connection's memory, not in the shared -shm file.
// Its first transaction (BEGIN EXCLUSIVE) takes the database file's
// exclusive lock, which that mode never gives back until the connection
// closes. While any other connection has the database open (a running
// hordebot's writer, readers and checkpointer hold a lock on it as long as
// they live, idle or not) that transaction fails at once, with no busy
// wait, and Open says the database is in use.

// openSQLiteExclusive opens the store in dir alone on its database at path.
func openSQLiteExclusive(ctx context.Context, dir, path, blobs string, opt Options) (*Store, error) {
	// locking_mode first: it must be set before the first read (which
	// journal_mode is). No busy timeout: a database in use is refused at
	// once, not after the usual wait.
	pragmas := "_pragma=locking_mode(EXCLUSIVE)&" +
		strings.Replace(connPragmas(), "_pragma=busy_timeout(10000)", "_pragma=busy_timeout(0)", 1)
	if !strings.Contains(pragmas, "busy_timeout(0)") {
		return nil, fmt.Errorf("open %s alone: the connection pragmas name no busy timeout to replace", path)
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=exclusive")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := lockExclusive(ctx, w, dir); err != nil {
		w.Close()
		return nil, err
	}
	if err := runMigrations(ctx, w, sqliteEngine, opt.Logger); err != nil {
		w.Close()
		return nil, err
	}
	s := &Store{
		w: w, r: w, dir: dir, blobs: blobs, clock: opt.Clock, log: opt.Logger, remote: opt.Blobs,
		ops: make(chan *writeOp), quit: make(chan struct{}), done: make(chan struct{}), ckDone: make(chan struct{}),
	}
	close(s.ckDone) // no checkpointer: the connection checkpoints as it commits, and at Close
	if s.wstmts, err = prepareAll(ctx, w, writeQueries); err != nil {
		s.closeDBs()
		return nil, err
	}
	if s.rstmts, err = prepareAll(ctx, w, readQueries); err != nil {
		s.closeDBs()
		return nil, err
	}
	go s.writer()
	return s, nil
}

// lockExclusive takes the database's exclusive lock on w's one connection,
// kept until it closes; KindConflict if another connection holds a lock.
func lockExclusive(ctx context.Context, w *sql.DB, dir string) error {
	tx, err := w.BeginTx(ctx, nil)
	if err == nil {
		// A read, so that the lock is taken whatever the driver defers.
		var n int
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
		if cerr := tx.Commit(); err == nil {
			err = cerr
		}
	}
	switch {
	case err == nil:
		return nil
	case sqliteCode(err)&0xff == sqlite3.SQLITE_BUSY || sqliteCode(err)&0xff == sqlite3.SQLITE_LOCKED:
		return &horde.Error{Kind: horde.KindConflict, Code: "DatabaseInUse", Err: err,
			Message: fmt.Sprintf("the database in %s is in use by another process (a running hordebot?): stop it first", dir)}
	}
	return fmt.Errorf("lock %s: %w", dir, err)
}
