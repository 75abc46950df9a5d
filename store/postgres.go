package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/hordebot/hordebot/horde"
)

// The store on PostgreSQL. One pool (Options.MaxConns connections) serves
// the writer goroutine, whose group commit runs unchanged (SAVEPOINTs are
// standard SQL), and the readers. There is no data directory: no PRAGMAs,
// no checkpointer, no data quota (Options.MaxDBBytes is SQLite's). Result
// images go to Options.Blobs or, without one, to the blobs table
// (blobs_postgres.go), where every process reads them.

// DefaultMaxConns is the PostgreSQL pool's size when Options.MaxConns is 0.
const DefaultMaxConns = 16

// openPostgres opens the store on the PostgreSQL server dsn names and
// applies the migrations under the migration lock.
func openPostgres(ctx context.Context, dsn string, opt Options) (*Store, error) {
	where := RedactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, horde.Invalidf("database", "the PostgreSQL URL %s: %v", where, err)
	}
	if opt.MaxDBBytes > 0 {
		opt.Logger.Warn("the data quota (data.max_mib) applies to SQLite only: PostgreSQL is not limited by hordebot",
			"database", where)
	}
	if err := migratePostgres(ctx, *cfg, opt.Logger); err != nil {
		return nil, fmt.Errorf("database %s: %w", where, err)
	}
	conns := opt.MaxConns
	if conns <= 0 {
		conns = DefaultMaxConns
	}
	counter := &statementCounter{}
	poolCfg := cfg.Copy()
	poolCfg.Tracer = counter
	db := sql.OpenDB(newPGConnector(*poolCfg))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(10 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, unavailable(fmt.Errorf("database %s: %w", where, err))
	}
	var database, schema string
	if err := db.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&database, &schema); err != nil {
		db.Close()
		return nil, unavailable(fmt.Errorf("database %s: %w", where, err))
	}
	s := &Store{
		eng: postgresEngine, w: db, r: db, clock: opt.Clock, log: opt.Logger, remote: opt.Blobs,
		pgcfg: cfg, channel: eventsChannel(database, schema), stmtCount: counter,
		ops: make(chan *writeOp), quit: make(chan struct{}), done: make(chan struct{}), ckDone: make(chan struct{}),
		aloneSlots: make(chan struct{}, max(1, conns/2)),
	}
	close(s.ckDone) // no checkpointer
	if s.remote == nil {
		s.remote = &pgBlobs{db: db, clock: opt.Clock}
	}
	if s.wstmts, err = prepareAll(ctx, db, postgresWriteQueries); err != nil {
		s.closeDBs()
		return nil, err
	}
	if s.rstmts, err = prepareAll(ctx, db, readQueries); err != nil {
		s.closeDBs()
		return nil, err
	}
	go s.writer()
	return s, nil
}

// migratePostgres applies the PostgreSQL migrations with goose on a
// connection of its own, under goose's PostgreSQL session locker: of
// several processes starting at once on one database, one applies them and
// the others wait, then find nothing to do. The lock is named for the
// database and the schema the URL's search_path puts first, so that
// separate schemas (one per test) migrate side by side.
func migratePostgres(ctx context.Context, cfg pgx.ConnConfig, log *slog.Logger) error {
	db := stdlib.OpenDB(cfg)
	defer db.Close()
	db.SetMaxOpenConns(2) // the locker's session and goose's transactions
	var database, schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&database, &schema); err != nil {
		return unavailable(fmt.Errorf("connect: %w", err))
	}
	if !schema.Valid {
		return horde.Invalidf("database", "no schema to create the tables in: the search_path names none that exists")
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(database.String, schema.String)),
		lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	return runMigrations(ctx, db, postgresEngine, log, goose.WithSessionLocker(locker))
}

// migrationLockID is the advisory lock the migrations of one database and
// schema take.
func migrationLockID(database, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("hordebot migrations\x00" + database + "\x00" + schema))
	return int64(h.Sum64() >> 1)
}

// runMigrations applies eng's migrations to db with goose.
func runMigrations(ctx context.Context, db *sql.DB, eng engine, log *slog.Logger, opts ...goose.ProviderOption) error {
	sub, err := fs.Sub(migrationFS, eng.migrationDir())
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(eng.gooseDialect(), db, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return unavailable(fmt.Errorf("apply migrations: %w", err))
	}
	for _, m := range res {
		log.Info("migration applied", "engine", eng.String(), "version", m.Source.Version, "file", m.Source.Path, "took", m.Duration)
	}
	return nil
}

// postgresHasSchema reports whether the schema dsn's search_path puts first
// holds goose's version table: hordebot's migrations ran there.
func postgresHasSchema(ctx context.Context, dsn string) (bool, error) {
	where := RedactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false, horde.Invalidf("database", "the PostgreSQL URL %s: %v", where, err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	var ok bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&ok); err != nil {
		return false, unavailable(fmt.Errorf("database %s: %w", where, err))
	}
	return ok, nil
}
