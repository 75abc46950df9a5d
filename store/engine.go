package store

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
)

// engine is the database a Store runs on. The SQL the store sends is one
// text for both wherever the two accept the same (ON CONFLICT, RETURNING,
// COALESCE, CASE); on PostgreSQL its ? placeholders are rebound to $n
// (rebind.go). The few differences that remain are this type's methods, so
// that no query site tests the engine itself.
type engine int

const (
	// sqliteEngine: modernc.org/sqlite, one file in the data directory,
	// one writer connection, WAL, a checkpointer, the data quota.
	sqliteEngine engine = iota
	// postgresEngine: pgx through database/sql, one pool for the writer
	// goroutine and the readers, migrations under an advisory lock.
	postgresEngine
)

// String is the engine's name as a database URL spells it.
func (e engine) String() string {
	if e == postgresEngine {
		return EnginePostgres
	}
	return EngineSQLite
}

// gooseDialect is the dialect goose writes its version table in.
func (e engine) gooseDialect() goose.Dialect {
	if e == postgresEngine {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// migrationDir is the folder of migrationFS holding the engine's
// migrations: the same file names in both (migrations_test.go).
func (e engine) migrationDir() string {
	if e == postgresEngine {
		return "migrations/postgres"
	}
	return "migrations"
}

// dbBytes is the database's size: SQLite's pages times the page size, the
// PostgreSQL database's size as the server reports it.
func (s *Store) dbBytes(ctx context.Context) (int64, error) {
	if s.eng == postgresEngine {
		var n int64
		if err := s.r.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
			return 0, fmt.Errorf("database size: %w", err)
		}
		return n, nil
	}
	var pages, size int64
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, fmt.Errorf("database page size: %w", err)
	}
	return pages * size, nil
}

// Engine is the name of the database the store runs on: "sqlite" or
// "postgres".
func (s *Store) Engine() string { return s.eng.String() }
