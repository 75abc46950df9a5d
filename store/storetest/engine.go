package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/hordebot/hordebot/store"
)

// Which engine the tests run on. By default SQLite, in the test's
// directory. With HORDEBOT_TEST_ENGINE=postgres, the PostgreSQL server that
// HORDEBOT_TEST_POSTGRES_URL names (scripts/pg-test-cluster.sh starts one):
// each test directory gets a schema of its own (the URL's search_path names
// it, so the store's tables and migrations land there), empty when the test
// starts. Reopening the same directory in a test reopens the same schema, so
// restart tests hold on both engines.
//
// Migrating a schema takes a good part of a second, so a test's schema is
// not dropped when the test ends: it is emptied (every table, back to what
// the migrations left: a pristine schema migrated once per process is the
// model) and handed to the next test of the process. Schemas of test
// processes that have exited are dropped by the next one.
const (
	EngineEnv      = "HORDEBOT_TEST_ENGINE"
	PostgresURLEnv = "HORDEBOT_TEST_POSTGRES_URL"
)

// TestMaxConns is the PostgreSQL pool of a test's store: tests run side by
// side, and the test server takes a few hundred connections.
const TestMaxConns = 4

// schemaPrefix starts the name of every test schema: hbt_<pid>_<n>.
const schemaPrefix = "hbt_"

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

// pgServer is this process's view of the test server.
type pgServer struct {
	mu     sync.Mutex
	base   string  // HORDEBOT_TEST_POSTGRES_URL
	admin  *sql.DB // creates, empties and drops schemas
	seed   string  // the pristine schema
	tables int     // in a migrated schema
	reset  string  // the SQL that empties a schema (%[1]s: its name)
	free   []string
	byDir  map[string]string
	n      int
	err    error // from setting up; every later test fails with it
}

var server struct {
	once sync.Once
	pg   *pgServer
}

// Database returns what store.Open takes for a test's store in dir: dir on
// SQLite, holding a copy of a migrated database when it held none
// (sqlite_template.go); on PostgreSQL the URL of an empty, migrated schema for dir (the
// same one each time the test asks for the same dir), emptied and reused
// by another test once this one ends.
func Database(tb testing.TB, dir string) string {
	tb.Helper()
	if !Postgres() {
		seedSQLite(tb, dir)
		return dir
	}
	return PostgresDatabase(tb, dir)
}

// PostgresDatabase is Database on PostgreSQL whatever the engine the tests
// run on, for the tests of what only PostgreSQL has; without
// HORDEBOT_TEST_POSTGRES_URL the test is skipped, saying so.
func PostgresDatabase(tb testing.TB, dir string) string {
	tb.Helper()
	if os.Getenv(PostgresURLEnv) == "" {
		tb.Skipf("a PostgreSQL test: set %s (eval \"$(scripts/pg-test-cluster.sh start)\")", PostgresURLEnv)
	}
	server.once.Do(func() { server.pg = startPG() })
	pg := server.pg
	if pg.err != nil {
		tb.Fatal(pg.err)
	}
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if u, ok := pg.byDir[dir]; ok {
		return u
	}
	var schema string
	if n := len(pg.free); n > 0 {
		schema, pg.free = pg.free[n-1], pg.free[:n-1]
	} else {
		var err error
		if schema, err = pg.newSchema(); err != nil {
			tb.Fatal(err)
		}
	}
	u, err := withSearchPath(pg.base, schema)
	if err != nil {
		tb.Fatalf("test PostgreSQL %s: %v", PostgresURLEnv, err)
	}
	pg.byDir[dir] = u
	tb.Cleanup(func() { pg.release(tb, dir, schema) })
	return u
}

// startPG connects to the test server, drops the schemas of exited test
// processes and migrates the pristine schema.
func startPG() *pgServer {
	pg := &pgServer{base: os.Getenv(PostgresURLEnv), byDir: map[string]string{}}
	if pg.base == "" {
		pg.err = fmt.Errorf("%s=postgres needs %s (eval \"$(scripts/pg-test-cluster.sh start)\")", EngineEnv, PostgresURLEnv)
		return pg
	}
	fail := func(err error) *pgServer {
		pg.err = fmt.Errorf("test PostgreSQL (%s): %w", store.RedactURL(pg.base), err)
		return pg
	}
	db, err := sql.Open("pgx", pg.base)
	if err != nil {
		return fail(err)
	}
	db.SetMaxOpenConns(4)
	pg.admin = db
	ctx := context.Background()
	if err := pg.dropStale(ctx); err != nil {
		return fail(err)
	}
	if pg.seed, err = pg.newSchema(); err != nil {
		return fail(err)
	}
	u, err := withSearchPath(pg.base, pg.seed)
	if err != nil {
		return fail(err)
	}
	s, err := store.Open(ctx, u, store.Options{Logger: slog.New(slog.DiscardHandler), MaxConns: 1})
	if err != nil {
		return fail(err)
	}
	if err := s.Close(); err != nil {
		return fail(err)
	}
	if err := pg.planReset(ctx); err != nil {
		return fail(err)
	}
	return pg
}

// newSchema creates an empty schema.
func (pg *pgServer) newSchema() (string, error) {
	pg.n++
	schema := fmt.Sprintf("%s%d_%d", schemaPrefix, os.Getpid(), pg.n)
	if _, err := pg.admin.Exec("CREATE SCHEMA " + schema); err != nil {
		return "", fmt.Errorf("test PostgreSQL: create schema %s: %w", schema, err)
	}
	return schema, nil
}

// dropStale drops the schemas of test processes that no longer run.
func (pg *pgServer) dropStale(ctx context.Context) error {
	rows, err := pg.admin.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, schemaPrefix)
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		pid, _, _ := strings.Cut(strings.TrimPrefix(name, schemaPrefix), "_")
		if n, err := strconv.Atoi(pid); err == nil && errors.Is(syscall.Kill(n, 0), syscall.ESRCH) {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		_, _ = pg.admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE") // another process may drop it first
	}
	return rows.Err()
}

// planReset writes the SQL that brings a schema back to the pristine one:
// delete every row (referencing tables first), copy the pristine rows in,
// restart the identity columns past them.
func (pg *pgServer) planReset(ctx context.Context) error {
	var tables []string
	refs := map[string][]string{} // table -> the tables it references
	rows, err := pg.admin.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename != 'goose_db_version' ORDER BY tablename`, pg.seed)
	if err != nil {
		return err
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	rows, err = pg.admin.QueryContext(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = $1`, pg.seed)
	if err != nil {
		return err
	}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return err
		}
		from, to = unqualified(from), unqualified(to)
		if from != to {
			refs[to] = append(refs[to], from) // delete from before to
		}
	}
	rows.Close()
	// Depth-first: a table's referencing tables are deleted before it.
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(t string) {
		if seen[t] {
			return
		}
		seen[t] = true
		for _, r := range refs[t] {
			visit(r)
		}
		order = append(order, t)
	}
	for _, t := range tables {
		visit(t)
	}
	var b strings.Builder
	b.WriteString("BEGIN; SET LOCAL lock_timeout = '10s';\n")
	for _, t := range order {
		fmt.Fprintf(&b, "DELETE FROM %%[1]s.%s;\n", t)
	}
	for i := len(order) - 1; i >= 0; i-- { // referenced tables first
		t := order[i]
		var n int
		if err := pg.admin.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s.%s", pg.seed, t)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(&b, "INSERT INTO %%[1]s.%s SELECT * FROM %s.%s;\n", t, pg.seed, t)
		}
	}
	rows, err = pg.admin.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = $1 AND is_identity = 'YES'`, pg.seed)
	if err != nil {
		return err
	}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		fmt.Fprintf(&b, "SELECT setval(pg_get_serial_sequence('%%[1]s.%[1]s', '%[2]s'), coalesce((SELECT max(%[2]s) FROM %%[1]s.%[1]s), 0) + 1, false);\n", t, c)
	}
	rows.Close()
	b.WriteString("COMMIT;")
	pg.reset, pg.tables = b.String(), len(tables)+1
	return rows.Err()
}

// release empties schema for the next test when it is a whole migrated
// one, and drops it otherwise.
func (pg *pgServer) release(tb testing.TB, dir, schema string) {
	pg.mu.Lock()
	delete(pg.byDir, dir)
	pg.mu.Unlock()
	var n int
	err := pg.admin.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = $1`, schema).Scan(&n)
	if err == nil && n == pg.tables {
		if _, err = pg.admin.Exec(fmt.Sprintf(pg.reset, schema)); err == nil {
			pg.mu.Lock()
			pg.free = append(pg.free, schema)
			pg.mu.Unlock()
			return
		}
		tb.Logf("test PostgreSQL: empty schema %s for the next test: %v (dropping it)", schema, err)
	}
	if _, err := pg.admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
		tb.Errorf("test PostgreSQL: drop schema %s: %v", schema, err)
	}
}

// unqualified drops the schema from a regclass name.
func unqualified(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
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
