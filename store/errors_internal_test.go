package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// openRaw opens a SQLite file of its own in dir with the given pragmas and
// DSN options, for making SQLite fail with a given result code.
func openRaw(t *testing.T, path, opts string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(0)"+opts)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSQLiteErrorsAreClassifiedByCode: constraint and storage failures are
// told apart by SQLite's result codes, as SQLite itself reports them; an
// error that only says so in its text (a wrapped string, another
// library's) is not a SQLite failure. The text used to be enough: an error
// reading "database or disk is full" became a 503 Retry-After.
func TestSQLiteErrorsAreClassifiedByCode(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "raw.db")
	db := openRaw(t, path, "")
	for _, q := range []string{
		`CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE, note TEXT NOT NULL DEFAULT '')`,
		`CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id))`,
		`INSERT INTO parent (id, name) VALUES (1, 'a')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string) error {
		_, err := db.ExecContext(ctx, q)
		if err == nil {
			t.Fatalf("%s: no error", q)
		}
		return fmt.Errorf("context: %w", err)
	}
	unique := exec(`INSERT INTO parent (id, name) VALUES (2, 'a')`)
	primary := exec(`INSERT INTO parent (id, name) VALUES (1, 'b')`)
	foreign := exec(`INSERT INTO child (id, parent_id) VALUES (1, 99)`)
	notNull := exec(`INSERT INTO parent (id, name, note) VALUES (3, 'c', NULL)`)

	// Another connection holds the write lock: with no busy timeout left, BUSY.
	other := openRaw(t, path, "")
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES (10, 'held')`); err != nil {
		t.Fatal(err)
	}
	busy := exec(`INSERT INTO parent (id, name) VALUES (11, 'waits')`)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	readOnly := openRaw(t, path, "&mode=ro")
	_, roErr := readOnly.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES (12, 'ro')`)
	if roErr == nil {
		t.Fatal("a write on a read-only connection succeeded")
	}

	textOnly := errors.New("SQLITE_FULL: database or disk is full; UNIQUE constraint failed: parent.name; FOREIGN KEY constraint failed; attempt to write a readonly database")
	tests := []struct {
		name                   string
		err                    error
		unique, uniqueName, fk bool
		unavailable            bool
	}{
		{"unique", unique, true, true, false, false},
		{"primary key", primary, true, false, false, false},
		{"foreign key", foreign, false, false, true, false},
		{"not null", notNull, false, false, false, false},
		{"busy", busy, false, false, false, true},
		{"read-only", roErr, false, false, false, true},
		{"text only", textOnly, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isUniqueViolation(tt.err, ""); got != tt.unique {
				t.Errorf("isUniqueViolation(%v) = %v, want %v", tt.err, got, tt.unique)
			}
			if got := isUniqueViolation(tt.err, "parent.name"); got != tt.uniqueName {
				t.Errorf("isUniqueViolation(%v, parent.name) = %v, want %v", tt.err, got, tt.uniqueName)
			}
			if got := isForeignKeyViolation(tt.err); got != tt.fk {
				t.Errorf("isForeignKeyViolation(%v) = %v, want %v", tt.err, got, tt.fk)
			}
			want := horde.KindInternal
			if tt.unavailable {
				want = horde.KindUnavailable
			}
			if got := horde.KindOf(unavailable(tt.err)); got != want {
				t.Errorf("unavailable(%v) is %s, want %s", tt.err, got, want)
			}
		})
	}
}
