package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Which engine the tests run on. By default SQLite, in the test's
// directory. With HORDEBOT_TEST_ENGINE=postgres, the PostgreSQL server that
// HORDEBOT_TEST_POSTGRES_URL names (scripts/pg-test-cluster.sh starts one):
// each test directory gets a schema of its own, created when the test first
// asks for it (the URL's search_path names it, so the store's tables and
// migrations land there) and dropped when the test ends. Reopening the same
// directory in a test reopens the same schema, so restart tests hold on
// both engines.
const (
	EngineEnv      = "HORDEBOT_TEST_ENGINE"
	PostgresURLEnv = "HORDEBOT_TEST_POSTGRES_URL"
)

// TestMaxConns is the PostgreSQL pool of a test's store: tests run side by
// side, and the test server takes a few hundred connections.
const TestMaxConns = 4

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool {
	return strings.EqualFold(os.Getenv(EngineEnv), "postgres")
}

// SkipOnPostgres skips a test of what only SQLite has (the data quota, the
// WAL and its checkpoints, the database file) when the tests run on
// PostgreSQL, saying why.
func SkipOnPostgres(tb testing.TB, why string) {
	tb.Helper()
	if Postgres() {
		tb.Skip("SQLite only (tests run on PostgreSQL): " + why)
	}
}

var schemas = struct {
	sync.Mutex
	admin *sql.DB
	byDir map[string]string
}{byDir: map[string]string{}}

// Database returns what store.Open takes for a test's store in dir: dir on
// SQLite; on PostgreSQL the URL of a fresh schema for dir (the same one
// each time the test asks for the same dir), dropped when the test ends.
func Database(tb testing.TB, dir string) string {
	tb.Helper()
	if !Postgres() {
		return dir
	}
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		tb.Fatalf("%s=postgres needs %s (eval \"$(scripts/pg-test-cluster.sh start)\")", EngineEnv, PostgresURLEnv)
	}
	schemas.Lock()
	defer schemas.Unlock()
	if u, ok := schemas.byDir[dir]; ok {
		return u
	}
	if schemas.admin == nil {
		db, err := sql.Open("pgx", base)
		if err != nil {
			tb.Fatalf("test PostgreSQL %s: %v", PostgresURLEnv, err)
		}
		db.SetMaxOpenConns(4)
		schemas.admin = db
	}
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails
	schema := "hbt_" + hex.EncodeToString(b[:])
	if _, err := schemas.admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("test PostgreSQL: create schema %s: %v", schema, err)
	}
	u, err := withSearchPath(base, schema)
	if err != nil {
		tb.Fatalf("test PostgreSQL %s: %v", PostgresURLEnv, err)
	}
	schemas.byDir[dir] = u
	tb.Cleanup(func() {
		schemas.Lock()
		delete(schemas.byDir, dir)
		admin := schemas.admin
		schemas.Unlock()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("test PostgreSQL: drop schema %s: %v", schema, err)
		}
	})
	return u
}

// withSearchPath returns the PostgreSQL URL base with schema first on its
// search_path (the startup options, as libpq and pgx read them).
func withSearchPath(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	opts := strings.TrimSpace(q.Get("options") + " -c search_path=" + schema)
	q.Set("options", opts)
	// %20, not +, for the spaces: pgx does not read + as a space.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String(), nil
}
