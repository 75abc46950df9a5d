// Package store is the SQLite implementation (modernc.org/sqlite, pure Go) of
// the repositories that horde and kudos define. The schema lives in
// migrations/ as numbered SQL files, embedded and applied at Open by goose.
//
// Writes go through one connection (SQLite has one writer; BEGIN IMMEDIATE
// avoids lock upgrades); reads use a small pool. WAL mode keeps readers off
// the writer's back and survives kill -9 at any point. Result images live in a
// content-addressed folder next to the database (blobs/ab/abcdef....webp):
// they are large and written once, so keeping them out of the WAL keeps
// commits small and fast, and a blob is fsynced before the row naming it commits.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/hordebot/hordebot/horde"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the SQLite store. Create it with Open; Close it when done.
type Store struct {
	w     *sql.DB // the one writer connection
	r     *sql.DB // readers
	dir   string
	blobs string
	clock horde.Clock
	log   *slog.Logger
}

// Options tune Open. Zero values take the defaults.
type Options struct {
	Clock  horde.Clock
	Logger *slog.Logger
}

// DBFile is the database file name inside the data directory.
const DBFile = "hordebot.db"

// Open opens (creating if needed) the store in dir and applies the migrations.
func Open(ctx context.Context, dir string, opt Options) (*Store, error) {
	if opt.Clock == nil {
		opt.Clock = horde.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o750); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, DBFile)
	pragmas := "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, opt.Logger); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxIdleTime(0)
	return &Store{w: w, r: r, dir: dir, blobs: filepath.Join(dir, "blobs"), clock: opt.Clock, log: opt.Logger}, nil
}

func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, m := range res {
		log.Info("migration applied", "version", m.Source.Version, "file", m.Source.Path, "took", m.Duration)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// writeTx runs fn in a write transaction and commits it; fn's error rolls back.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(fmt.Errorf("begin: %w", err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return unavailable(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// unavailable marks disk-full and read-only failures as KindUnavailable so
// that the API answers 503 and the bot says so; other errors pass through.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range []string{"SQLITE_FULL", "database or disk is full", "SQLITE_READONLY", "readonly database", "SQLITE_IOERR", "disk I/O error"} {
		if containsFold(msg, s) {
			return &horde.Error{Kind: horde.KindUnavailable, Code: "StoreUnavailable", Message: "storage is unavailable; try again later", Err: err}
		}
	}
	return err
}
