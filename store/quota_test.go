package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// bigPrompt does not fit in one database page: storing it needs new pages.
var bigPrompt = strings.Repeat("a lighthouse at dusk, ", aihorde.MaxPromptLength/len("a lighthouse at dusk, "))

// openQuota opens the store in dir with a database quota.
func openQuota(tb testing.TB, dir string, maxBytes int64) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), dir, store.Options{Clock: newFakeClock(), Logger: quietLogger, MaxDBBytes: maxBytes})
	if err != nil {
		tb.Fatalf("open store with a quota of %d bytes: %v", maxBytes, err)
	}
	return s
}

// dbPages reads the database's size in pages and its page size, from a
// separate read-only connection.
func dbPages(tb testing.TB, dir string) (pages, pageSize int64) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		tb.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		tb.Fatal(err)
	}
	return pages, pageSize
}

// integrityCheck runs SQLite's integrity check on the database file.
func integrityCheck(tb testing.TB, dir string) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		tb.Fatal(err)
	}
	if res != "ok" {
		tb.Fatalf("integrity check: %s", res)
	}
}

// TestMaxDBBytesFillsUpAndRecovers: with a quota, the database grows up to
// it and no further; a write that does not fit fails with KindUnavailable and
// leaves nothing behind; reopened without the quota, the store is consistent
// and writable again.
func TestMaxDBBytesFillsUpAndRecovers(t *testing.T) {
	storetest.SkipOnPostgres(t, "the data quota")
	ctx := context.Background()
	dir := t.TempDir()
	s := openQuota(t, dir, 1<<20)
	u := mustUser(t, s, "alice")
	if _, err := s.Apply(ctx, kudos.Entry{UserID: u.ID, Delta: 100, Kind: kudos.KindAdmin, Key: "fund", Floor: kudos.NoFloor}); err != nil {
		t.Fatal(err)
	}
	var stored []string
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		r := imageRequest(fmt.Sprintf("fill-%04d", i), u.ID, 2)
		r.Prompt = bigPrompt
		if full = s.CreateRequest(ctx, r); full == nil {
			stored = append(stored, r.ID)
		}
	}
	if full == nil {
		t.Fatal("1000 requests of 10 kB fit in a 1 MiB quota")
	}
	wantKind(t, full, horde.KindUnavailable, nil)
	if len(stored) == 0 {
		t.Fatal("not one request fitted in the quota")
	}
	failedID := fmt.Sprintf("fill-%04d", len(stored))
	if _, err := s.Request(ctx, failedID); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("the refused request %s was half-written: %v", failedID, err)
	}
	if pages, size := dbPages(t, dir); pages*size > 1<<20 {
		t.Fatalf("the database grew to %d bytes past its quota of 1 MiB", pages*size)
	}
	// Reads still work.
	if b := mustBalance(t, s, u.ID); b != 100 {
		t.Fatalf("balance %d, want 100", b)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The admin lifts the quota.
	s = mustOpenDir(t, dir, newFakeClock())
	integrityCheck(t, dir)
	snap, err := s.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Requests) != len(stored) {
		t.Fatalf("%d open requests after reopening, want the %d stored", len(snap.Requests), len(stored))
	}
	for _, r := range snap.Requests {
		if r.ID == failedID || r.Prompt != bigPrompt {
			t.Fatalf("unexpected open request %s (prompt %d bytes)", r.ID, len(r.Prompt))
		}
	}
	r := imageRequest(failedID, u.ID, 2)
	r.Prompt = bigPrompt
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatalf("without the quota the request is still refused: %v", err)
	}
	mustVerify(t, s)
}

// TestFullDatabaseFailsEveryWriteAsUnavailable: at its quota, each kind of
// write that needs room fails with KindUnavailable, alone or grouped with
// concurrent writes in one transaction, and writes that fit in place still
// succeed; nothing is half-written.
func TestFullDatabaseFailsEveryWriteAsUnavailable(t *testing.T) {
	storetest.SkipOnPostgres(t, "the data quota")
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpenDir(t, dir, newFakeClock())
	u := mustUser(t, s, "alice")
	if err := s.SetDiscordSetting(ctx, "counter", "0000"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openQuota(t, dir, 1) // a quota below the current size: no growth at all
	t.Cleanup(func() { _ = s.Close() })
	before, _ := dbPages(t, dir)

	big := strings.Repeat("x", 3*4096)
	writes := []struct {
		name  string
		write func(i int) error
	}{
		{"create request", func(i int) error {
			r := imageRequest(fmt.Sprintf("req-%d", i), u.ID, 4)
			r.Prompt = bigPrompt
			return s.CreateRequest(ctx, r)
		}},
		{"ledger entry", func(i int) error {
			_, err := s.Apply(ctx, kudos.Entry{UserID: u.ID, Delta: 5, Kind: kudos.KindAdmin, Reason: big, Key: fmt.Sprintf("admin-%d", i), Floor: kudos.NoFloor})
			return err
		}},
		{"discord delivery", func(i int) error {
			return s.SaveDiscordDelivery(ctx, fmt.Sprintf("req-%d", i), []byte(`{"prompt":"`+big+`"}`))
		}},
		{"discord setting", func(i int) error { return s.SetDiscordSetting(ctx, fmt.Sprintf("big-%d", i), big) }},
		{"user", func(i int) error {
			_, err := s.CreateUser(ctx, horde.User{Name: fmt.Sprintf("u%d", i), DiscordID: fmt.Sprint(1000 + i)}, strings.Repeat("k", 4096)+fmt.Sprint(i))
			return err
		}},
	}
	t.Run("alone", func(t *testing.T) {
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				wantKind(t, w.write(0), horde.KindUnavailable, nil)
			})
		}
	})
	t.Run("grouped with writes that fit", func(t *testing.T) {
		const rounds = 8
		var wg sync.WaitGroup
		errs := make([][]error, len(writes))
		fits := make([]error, rounds)
		for i := range writes {
			errs[i] = make([]error, rounds)
		}
		for r := 0; r < rounds; r++ {
			for i, w := range writes {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i][r] = w.write(r + 1) }()
			}
			wg.Add(1)
			go func() { defer wg.Done(); fits[r] = s.SetDiscordSetting(ctx, "counter", fmt.Sprintf("%04d", r)) }()
		}
		wg.Wait()
		for i, w := range writes {
			for r, err := range errs[i] {
				if !horde.IsKind(err, horde.KindUnavailable) {
					t.Errorf("%s #%d: got %v, want KindUnavailable", w.name, r, err)
				}
			}
		}
		for r, err := range fits {
			if err != nil {
				t.Errorf("an in-place update #%d failed next to the refused writes: %v", r, err)
			}
		}
	})
	if after, _ := dbPages(t, dir); after != before {
		t.Fatalf("the database grew from %d to %d pages at its quota", before, after)
	}
	for i := 0; i <= 8; i++ {
		if _, err := s.Request(ctx, fmt.Sprintf("req-%d", i)); !horde.IsKind(err, horde.KindNotFound) {
			t.Fatalf("refused request req-%d is there: %v", i, err)
		}
	}
	if b := mustBalance(t, s, u.ID); b != 0 {
		t.Fatalf("balance %d after refused ledger entries, want 0", b)
	}
	mustVerify(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	integrityCheck(t, dir)
	if _, err := os.Stat(filepath.Join(dir, store.DBFile)); err != nil {
		t.Fatal(err)
	}
}
