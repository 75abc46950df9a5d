package store_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every SQLite migration has a PostgreSQL twin of the same name, and the
// other way round: a store on either engine reaches the same schema
// version by the same steps.
func TestMigrationsHavePostgresTwins(t *testing.T) {
	names := func(dir string) []string {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	sqlite := names("migrations")
	postgres := names(filepath.Join("migrations", "postgres"))
	if len(sqlite) == 0 {
		t.Fatal("no SQLite migrations found")
	}
	for _, n := range sqlite {
		if !slices.Contains(postgres, n) {
			t.Errorf("migrations/%s has no PostgreSQL twin migrations/postgres/%s", n, n)
		}
	}
	for _, n := range postgres {
		if !slices.Contains(sqlite, n) {
			t.Errorf("migrations/postgres/%s has no SQLite migration of that name", n)
		}
	}
}
