package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// The scale the pages are measured at (issue 13: < 50 ms of server time
// each with 100k requests and 10k members in the store).
const (
	benchMembers  = 10000
	benchRequests = 100000
	benchWorkers  = 200
	benchShares   = 2000
)

// seedBig fills a fresh store in dir with benchMembers members,
// benchRequests finished requests with their results and ledger entries,
// shares with reactions, 30 days of snapshots and uptime. The members,
// workers, requests and shares go in one bulk transaction on the store's
// own file (after its migrations ran): going through the horde would take
// minutes for no extra realism. The ledger entries and the snapshots go
// through the store (Apply, RecordSnapshot), which keeps their rollups.
func seedBig(b *testing.B, dir string, now time.Time) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir, store.Options{Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?_pragma=journal_mode(WAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	must := func(_ sql.Result, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	ns := func(t time.Time) int64 { return t.UnixNano() }
	for i := 1; i <= benchMembers; i++ {
		name := fmt.Sprintf("member%d", i)
		if i == 1 {
			name = "ada"
		}
		must(tx.Exec(`INSERT INTO users (id, name, discord_id, created_at) VALUES (?, ?, ?, ?)`, i, name, strconv.Itoa(1000+i), ns(now.AddDate(0, -6, 0))))
	}
	for w := 0; w < benchWorkers; w++ {
		must(tx.Exec(`INSERT INTO workers (id, name, owner_id, kind, models, fulfilled, last_pop, created_at) VALUES (?, ?, ?, 'image', '["stable_diffusion"]', 500, ?, ?)`,
			fmt.Sprintf("w%04d", w), fmt.Sprintf("gpu-%d", w), 1+w%50, ns(now.Add(-time.Minute)), ns(now.AddDate(0, -1, 0))))
		for h := 0; h < 30*24; h += 1 {
			must(tx.Exec(`INSERT INTO worker_uptime (worker_id, hour, minutes) VALUES (?, ?, ?)`, fmt.Sprintf("w%04d", w), ns(now.Truncate(time.Hour).Add(-time.Duration(h)*time.Hour)), 30+h%30))
		}
	}
	var entries []kudos.Entry
	ledger := func(user int, delta int64, kind kudos.EntryKind, at time.Time) {
		entries = append(entries, kudos.Entry{UserID: int64(user), Delta: delta, Kind: kind, Key: "b" + strconv.Itoa(len(entries)), Floor: kudos.NoFloor, At: at})
	}
	for i := 0; i < benchRequests; i++ {
		at := now.Add(-time.Duration(i) * 25 * time.Second) // 100k over a month
		user, worker := 1+i%benchMembers, i%benchWorkers
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		must(tx.Exec(`INSERT INTO requests (id, kind, user_id, state, n, prompt, models, created_at, finished_at) VALUES (?, 'image', ?, 'done', 1, ?, '["stable_diffusion"]', ?, ?)`,
			id, user, "a prompt "+strconv.Itoa(i), ns(at), ns(at.Add(20*time.Second))))
		must(tx.Exec(`INSERT INTO generations (job_id, request_id, item, worker_id, worker_name, model, state, blob_ref, created_at) VALUES (?, ?, 0, ?, ?, 'stable_diffusion', 'ok', ?, ?)`,
			"j"+id, id, fmt.Sprintf("w%04d", worker), fmt.Sprintf("gpu-%d", worker), fmt.Sprintf("%064x", i), ns(at)))
		ledger(user, -10, kudos.KindRequestCost, at)
		ledger(1+worker%50, 10, kudos.KindGeneration, at)
		if i%10 == 0 {
			ledger(1+i%997, 5, kudos.KindAwardHelpful, at)
		}
		if i < benchShares {
			msg := "s" + strconv.Itoa(i)
			must(tx.Exec(`INSERT INTO shared_posts (message_id, channel_id, discord_user_id, request_id, created_at) VALUES (?, 'art', ?, ?, ?)`, msg, strconv.Itoa(1000+user), id, ns(at)))
			for r := 0; r < i%7; r++ {
				must(tx.Exec(`INSERT INTO art_reactions (message_id, reactor_id, emoji, at) VALUES (?, ?, '🎨', ?)`, msg, 1+(i+r*13)%benchMembers, ns(at)))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	st, err = store.Open(ctx, dir, store.Options{Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for len(entries) > 0 {
		n := min(len(entries), 5000)
		if _, err := st.Apply(ctx, entries[:n]...); err != nil {
			b.Fatal(err)
		}
		entries = entries[n:]
	}
	for m := 0; m < 30*24*60; m++ {
		snap := web.Snapshot{At: now.Truncate(time.Minute).Add(-time.Duration(m) * time.Minute),
			ImageQueue: int64(m % 300), ImageWorkers: int64(150 + m%50), ImageFinished: int64(2 + m%3), MedianWait: time.Duration(20000+m%9000) * time.Millisecond}
		if _, err := st.RecordSnapshot(ctx, snap, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPages measures each page's server time (rendering uncached,
// from the store) at 100k requests and 10k members, beside the 50 ms goal.
func BenchmarkPages(b *testing.B) {
	now := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	// HORDEBOT_WEB_BENCH_DIR keeps the seeded store between runs (profiling).
	dir := os.Getenv("HORDEBOT_WEB_BENCH_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "hordebot-web-bench-"); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	if _, err := os.Stat(filepath.Join(dir, store.DBFile)); err != nil {
		seedBig(b, dir, now)
	}
	clock := storetest.NewClock(now)
	st := storetest.MustOpen(b, dir, clock)
	ctx := context.Background()
	h, err := horde.New(ctx, st, horde.Config{Clock: clock, Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	k, err := kudos.New(st, kudos.DefaultConfig(), clock, kudos.WithLogger(discard))
	if err != nil {
		b.Fatal(err)
	}
	// cold renders everything from the store; served is a running
	// server's page: no page cache (each request renders), the slow
	// aggregates (boards, the month's charts) as its memo keeps them.
	cold, err := web.New(h, k, st, assets.Web, web.Options{Clock: clock, Logger: discard, CacheFor: -1, DataFor: -1, RatePerIP: 1e9, BurstPerIP: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	served, err := web.New(h, k, st, assets.Web, web.Options{Clock: clock, Logger: discard, CacheFor: -1, RatePerIP: 1e9, BurstPerIP: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{
		{"status", "/"},
		{"leaderboard-week", "/leaderboard"},
		{"leaderboard-all", "/leaderboard?span=all"},
		{"gallery-new", "/gallery"},
		{"gallery-top", "/gallery?order=top"},
		{"member", "/u/ada"},
		{"worker", "/w/gpu-1"},
		{"request", "/r/00000000-0000-4000-8000-000000000042"},
	} {
		// first is the first load of the run: for cold, the page's queries
		// meet SQLite's page cache as the pages before it left it.
		run := func(b *testing.B, handler http.Handler) {
			var total, first time.Duration
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				start := time.Now()
				handler.ServeHTTP(rec, req)
				took := time.Since(start)
				if total == 0 {
					first = took
				}
				total += took
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", p.path, rec.Code)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
		}
		b.Run(p.name+"/cold", func(b *testing.B) { run(b, cold) })
		served.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p.path, nil)) // warms its memo
		b.Run(p.name+"/served", func(b *testing.B) { run(b, served) })
	}
}
