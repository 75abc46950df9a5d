// Package store is the SQLite implementation (modernc.org/sqlite, pure Go) of
// the repositories that horde and kudos define. The schema lives in
// migrations/ as numbered SQL files, embedded and applied at Open by goose.
//
// Writes go through one connection (SQLite has one writer; BEGIN IMMEDIATE
// avoids lock upgrades), driven by one goroutine that groups concurrent
// writes into one transaction, each in its own SAVEPOINT (writer.go); every
// method returns only after its change committed. Reads use a small pool.
// WAL mode keeps readers off the writer's back and survives kill -9 at any
// point. Result images live in a content-addressed folder next to the
// database (blobs/ab/<sha256 hex>): they are large and written once, so
// keeping them out of the WAL keeps commits small and fast, and a blob is
// fsynced before the row naming it commits. A blob no row names any more is
// deleted (blobs_gc.go), and finished requests past their retention go with
// their rows and images (retention.go); the data quota counts both the
// database and the blobs.
//
// Times are stored as unix nanoseconds and come back in UTC.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/hordebot/hordebot/horde"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Store is the store on SQLite or PostgreSQL (engine.go). Create it with
// Open; Close it when done.
type Store struct {
	eng   engine
	w     *sql.DB // SQLite: the one writer connection; PostgreSQL: the pool
	r     *sql.DB // SQLite: readers; PostgreSQL: the same pool as w
	dir   string  // the SQLite data directory; "" on PostgreSQL
	blobs string  // the SQLite blobs folder; "" on PostgreSQL
	clock horde.Clock
	log   *slog.Logger

	creds credentialCache // API key hash -> credential, for a few seconds

	// gc pins blobs being written and follows their size (blobs_gc.go);
	// quota is Options.MaxDBBytes, counted over the database and the blobs.
	gc       blobKeeper
	remote   BlobBackend // Options.Blobs; nil: the blobs folder
	quota    int64
	pageSize int64 // the database's, when there is a quota

	// pgcfg is the PostgreSQL connection config (nil on SQLite), for the
	// sessions of their own of the lease holder (leases.go) and the event
	// listener; channel is where events are NOTIFYed (pgnotify.go).
	pgcfg   *pgx.ConnConfig
	channel string
	// stmtCount counts the statements the pool sends (PostgreSQL only).
	stmtCount *statementCounter

	ck     *sql.DB              // the checkpointer's connection (checkpoint.go)
	wstmts map[string]*sql.Stmt // hot statements prepared on w (see stmts.go)
	rstmts map[string]*sql.Stmt // hot statements prepared on r
	bound  boundStmts           // wstmts bound to the writer's transaction (writer goroutine only)

	// Group commit (writer.go): write() hands ops to one goroutine that runs
	// concurrent ones in a single transaction.
	ops     chan *writeOp
	quit    chan struct{}
	done    chan struct{}
	commits atomic.Uint64 // transactions committed, for the checkpointer
	// unprepared counts the statements the writer ran without a prepared
	// statement (parsed on every call): the hot paths must run none.
	unprepared atomic.Uint64
	ckDone     chan struct{}
	// aloneMu is held shared by each transaction of writeAlone under way
	// on PostgreSQL and taken by Close, which sets closed.
	aloneMu    sync.RWMutex
	closed     bool
	aloneSlots chan struct{} // bounds them to half the pool (PostgreSQL)
	closeOnce  sync.Once
	closeErr   error
}

// Options tune Open. Zero values take the defaults.
type Options struct {
	Clock  horde.Clock
	Logger *slog.Logger
	// MaxDBBytes is a quota on the data directory: the database's pages plus
	// the result images (blobs/); 0 means no quota. The database may grow
	// into what the images leave, rounded down to whole pages (SQLite's
	// max_page_count on the writer connection, updated as images come and
	// go); an image is refused if it does not fit beside the database. A
	// write that does not fit fails with KindUnavailable and changes nothing,
	// as on a full disk; writes that fit in pages already allocated still
	// succeed. A quota below the current size holds the data at its current
	// size. The WAL is not counted. Migrations at Open run before the quota
	// applies.
	MaxDBBytes int64
	// Blobs, if set, is where result images live instead of the data
	// directory's blobs/ folder (blobbackend.go): an S3 bucket
	// (store/s3blobs). The data quota does not count them. On PostgreSQL
	// without one they live in the database (blobs_postgres.go).
	Blobs BlobBackend
	// MaxConns is the PostgreSQL pool's size (DefaultMaxConns when 0);
	// SQLite ignores it.
	MaxConns int
	// Exclusive (SQLite only; PostgreSQL ignores it) opens the database
	// with SQLite's exclusive locking mode on one connection that reads and
	// writes, and holds the file's lock until Close: Open fails with
	// KindConflict (ErrDatabaseInUse) when another process or store has the
	// database open, and while the store is open no other can open it (a
	// hordebot starting meanwhile fails after its busy timeout). For a
	// one-off admin job that must be alone on the data, such as
	// migrate-data's source; there is no checkpointer and no data quota.
	Exclusive bool
}

// DBFile is the database file name inside the data directory.
const DBFile = "hordebot.db"

// Open opens (creating if needed) the store that database names and applies
// the migrations: a SQLite data directory ("sqlite:DIR" or a bare DIR) or a
// PostgreSQL URL ("postgres://..."), as ParseDatabaseURL reads them.
func Open(ctx context.Context, database string, opt Options) (*Store, error) {
	if opt.Clock == nil {
		opt.Clock = horde.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	u, err := ParseDatabaseURL(database)
	if err != nil {
		return nil, err
	}
	if u.Engine == EnginePostgres {
		return openPostgres(ctx, u.DSN, opt)
	}
	return openSQLite(ctx, u.Dir, opt)
}

// openSQLite opens the SQLite store in dir.
func openSQLite(ctx context.Context, dir string, opt Options) (*Store, error) {
	path := filepath.Join(dir, DBFile)
	blobs := filepath.Join(dir, "blobs")
	if err := prepareDataDir(dir, blobs, path); err != nil {
		return nil, err
	}
	if opt.Exclusive {
		return openSQLiteExclusive(ctx, dir, path, blobs, opt)
	}
	pragmas := connPragmas()
	w, err := openWriter(path, pragmas)
	if err != nil {
		return nil, err
	}
	if err := runMigrations(ctx, w, sqliteEngine, opt.Logger); err != nil {
		w.Close()
		return nil, err
	}
	// The quota counts the blobs too: the database may take what they leave.
	var blobBytes, pageSize int64
	if opt.MaxDBBytes > 0 {
		if blobBytes, err = blobUsage(blobs); err != nil {
			w.Close()
			return nil, fmt.Errorf("size of the result images in %s: %w", blobs, err)
		}
		if w, pageSize, err = applyQuota(ctx, w, path, pragmas, opt.MaxDBBytes, blobBytes, opt.Logger); err != nil {
			return nil, err
		}
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxIdleTime(0)
	s := &Store{
		w: w, r: r, dir: dir, blobs: blobs, clock: opt.Clock, log: opt.Logger,
		quota: opt.MaxDBBytes, pageSize: pageSize, remote: opt.Blobs,
		ops: make(chan *writeOp), quit: make(chan struct{}), done: make(chan struct{}), ckDone: make(chan struct{}),
	}
	s.gc.used.Store(blobBytes)
	if s.ck, err = openCheckpointer(path, pragmas); err != nil {
		s.closeDBs()
		return nil, err
	}
	if s.wstmts, err = prepareAll(ctx, w, writeQueries); err != nil {
		s.closeDBs()
		return nil, err
	}
	if s.rstmts, err = prepareAll(ctx, r, readQueries); err != nil {
		s.closeDBs()
		return nil, err
	}
	go s.writer()
	go s.checkpointer()
	return s, nil
}

// connPragmas are the DSN pragmas of every connection the store opens.
// temp_store(MEMORY) keeps the statement journals of the group commit's
// savepoints off the disk; a 16 MiB page cache per connection keeps the hot
// indexes in memory. Checkpoints are mostly the checkpointer's
// (checkpoint.go).
func connPragmas() string {
	return "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16384)" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)", writerAutocheckpointPages, walSizeLimit)
}

// openWriter opens the one writer connection with the given DSN pragmas.
func openWriter(path, pragmas string) (*sql.DB, error) {
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	return w, nil
}

// applyQuota reopens the writer w with max_page_count set from maxBytes
// less the blobBytes the images take, and returns it with the database's
// page size. The pragma goes in the DSN so that it holds on every connection
// the pool may (re)open, not only the current one; the writer updates it as
// images come and go (applyDBLimit).
func applyQuota(ctx context.Context, w *sql.DB, path, pragmas string, maxBytes, blobBytes int64, log *slog.Logger) (*sql.DB, int64, error) {
	var pageSize, pages int64
	err := w.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize)
	if err == nil {
		err = w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages)
	}
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, 0, fmt.Errorf("database quota of %s: %w", path, err)
	}
	if pageSize <= 0 {
		return nil, 0, fmt.Errorf("database quota of %s: page size %d", path, pageSize)
	}
	limit := max((maxBytes-blobBytes)/pageSize, 1)
	w, err = openWriter(path, pragmas+fmt.Sprintf("&_pragma=max_page_count(%d)", limit))
	if err != nil {
		return nil, 0, err
	}
	// SQLite never sets the limit below the current size; read what it took.
	var got int64
	if err := w.QueryRowContext(ctx, "PRAGMA max_page_count").Scan(&got); err != nil {
		w.Close()
		return nil, 0, fmt.Errorf("database quota of %s: %w", path, err)
	}
	if got > limit {
		log.Warn("the data directory is already larger than its quota: the database cannot grow",
			"quota_bytes", maxBytes, "database_bytes", pages*pageSize, "images_bytes", blobBytes)
	} else {
		log.Info("data quota", "quota_bytes", maxBytes, "database_limit_bytes", got*pageSize,
			"database_bytes", pages*pageSize, "images_bytes", blobBytes, "page_size", pageSize)
	}
	return w, pageSize, nil
}

// Close waits for the writes under way, then closes the database. Writes
// submitted after Close fail with KindUnavailable. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.done
		<-s.ckDone
		s.aloneMu.Lock()
		s.closed = true
		s.aloneMu.Unlock()
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

// closeDBs closes the prepared statements and both pools.
func (s *Store) closeDBs() error {
	var errs []error
	for _, m := range []map[string]*sql.Stmt{s.wstmts, s.rstmts} {
		for _, st := range m {
			errs = append(errs, st.Close())
		}
	}
	if s.ck != nil {
		errs = append(errs, s.ck.Close())
	}
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// Dir is the SQLite data directory ("" on PostgreSQL).
func (s *Store) Dir() string { return s.dir }

// writeTx runs fn in a write transaction and returns after it committed;
// fn's error rolls back fn's changes only. fn may share its transaction with
// concurrent writes (group commit, see write); it must not call writeTx or
// write itself.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.write(ctx, func(_ context.Context, tx *sql.Tx) error { return fn(tx) })
}

var _ horde.Store = (*Store)(nil)
