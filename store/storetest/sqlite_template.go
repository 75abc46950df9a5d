package storetest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/store"
)

// A new SQLite test store starts as a copy of one database migrated once
// per test process: applying every migration to a fresh file takes most of
// a second under the race detector, copying the migrated file a
// millisecond. Reopening a directory that already holds a database (a
// restart test) reopens it as it is.
var sqliteTemplate struct {
	once sync.Once
	db   []byte // the migrated database file, checkpointed
	err  error
}

// seedSQLite puts a copy of the migrated template database into dir when
// dir holds no database yet.
func seedSQLite(tb testing.TB, dir string) {
	tb.Helper()
	path := filepath.Join(dir, store.DBFile)
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return // a database is there (or the store will say what is wrong)
	}
	sqliteTemplate.once.Do(func() { sqliteTemplate.db, sqliteTemplate.err = migratedSQLite() })
	if sqliteTemplate.err != nil {
		tb.Fatalf("migrate the template SQLite database: %v", sqliteTemplate.err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatalf("test data dir: %v", err)
	}
	if err := os.WriteFile(path, sqliteTemplate.db, 0o600); err != nil {
		tb.Fatalf("copy the template SQLite database: %v", err)
	}
}

// migratedSQLite opens a store in a temporary directory (which migrates
// it), closes it (which checkpoints the WAL into the file) and returns the
// database file's bytes.
func migratedSQLite() ([]byte, error) {
	dir, err := os.MkdirTemp("", "hordebot-storetest-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(context.Background(), dir, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, store.DBFile)
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("%s-wal holds %d bytes after close: the copy would miss them", path, fi.Size())
	}
	return os.ReadFile(path)
}
