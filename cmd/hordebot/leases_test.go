package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// testLeaseEvery is the lease interval of the tests' Apps: short, so that
// takeovers are quick; every wait below is bounded by leaseWait instead.
const testLeaseEvery = 20 * time.Millisecond

// leaseWait bounds a wait for something a lease change brings about: far
// longer than the few intervals it takes.
const leaseWait = 30 * time.Second

// logBuffer collects an App's log lines (slog's text format), safe for the
// App's goroutines and the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count is the number of lines holding every one of parts.
func (b *logBuffer) count(parts ...string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, line := range strings.Split(b.buf.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// acquired counts the "lease acquired" lines of lease name.
func (b *logBuffer) acquired(name string) int {
	return b.count(`msg="lease acquired"`, "lease="+name)
}

// slogText logs at Info and above to w in slog's text format.
func slogText(w *logBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// openLoggedApp opens an App on cfg whose log goes to w, with the tests'
// lease interval.
func openLoggedApp(t *testing.T, cfg Config, clock horde.Clock, w *logBuffer) *App {
	t.Helper()
	app, err := OpenApp(context.Background(), cfg, slogText(w), clock)
	if err != nil {
		t.Fatal(err)
	}
	app.leaseEvery = testLeaseEvery
	return app
}

// serveApp serves app in the background, as startApp does.
func serveApp(t *testing.T, app *App) *runningApp {
	t.Helper()
	if err := app.Listen(); err != nil {
		app.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningApp{App: app, stop: cancel, done: make(chan error, 1)}
	go func() { ra.done <- app.Serve(ctx) }()
	return ra
}

// waitFor waits until cond holds, failing the test (saying what) past
// leaseWait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(leaseWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", leaseWait, what)
		}
		time.Sleep(testLeaseEvery / 2)
	}
}

// leaseTestConfig is an App's config on database, paying the art channel
// "art" 2 kudos a reactor and settling due awards every second.
func leaseTestConfig(t *testing.T, database string) Config {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	cfg.Database.URL = database
	cfg.Kudos = json.RawMessage(`{"timezone": "UTC", "art": {"channels": ["art"], "per_reactor": 2, "post_cap": 6, "daily_cap": 10},
		"schedules": {"settle": "@every 1s"}}`)
	return cfg
}

// TestLeasesKudosSchedulesOnce: two `api` processes (two Apps) on one
// PostgreSQL database run the kudos schedules in one of them, the holder of
// the "kudos-schedules" lease: the other waits. When the holder's database
// session dies (its connection terminated, as when the process is cut off)
// or the holder shuts down, the lease is taken (by the other process, or
// by the old holder on a new session: whichever asks first), and its
// catch-up tallies each day missed meanwhile once: every art post is paid
// once, every due award settled once, and each period is tallied by one
// process.
func TestLeasesKudosSchedulesOnce(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, database string, a *runningApp)
		// bTakes: the other process must be the one taking the lease over.
		bTakes bool
	}{
		{"holder's session terminated", terminateLeaseHolder, false},
		{"holder shut down", func(t *testing.T, _ string, a *runningApp) { a.shutdown(t) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			database := storetest.PostgresDatabase(t, t.TempDir())
			tue := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)  // a Tuesday
			clock := storetest.NewClock(tue.Add(26 * time.Hour)) // Wednesday noon
			logA, logB := &logBuffer{}, &logBuffer{}
			appA := openLoggedApp(t, leaseTestConfig(t, database), clock, logA)

			// An art post a day, Tuesday to Friday, each with one reactor;
			// a helpful award due to settle.
			artist, _, err := appA.Horde.CreateUser(ctx, "artist")
			if err != nil {
				t.Fatal(err)
			}
			fan, _, err := appA.Horde.CreateUser(ctx, "fan")
			if err != nil {
				t.Fatal(err)
			}
			helper, _, err := appA.Horde.CreateUser(ctx, "helper")
			if err != nil {
				t.Fatal(err)
			}
			react := func(receiver int64, msg, channel, emoji string, at time.Time) {
				t.Helper()
				out, err := appA.Kudos.OnReactionAdded(ctx, kudos.ReactionAdded{GiverID: fan.ID, ReceiverID: receiver,
					MessageID: msg, ChannelID: channel, GuildID: "g", Emoji: emoji, At: at,
					GiverAccountCreated: at.AddDate(-1, 0, 0), GiverJoinedAt: at.AddDate(0, -1, 0)})
				if err != nil {
					t.Fatalf("reaction on %s: %v", msg, err)
				}
				if !out.Awarded && !out.ArtRecorded {
					t.Fatalf("reaction on %s counted for nothing: %+v", msg, out)
				}
			}
			var days []string
			for d := range 4 {
				at := tue.AddDate(0, 0, d)
				days = append(days, kudos.Day(at, time.UTC).Name)
				react(artist.ID, "post-"+days[d], "art", "😍", at)
			}
			react(helper.ID, "answer", "general", "🙏", clock.Now())
			clock.Advance(11 * time.Minute) // past the award's settle delay

			a := serveApp(t, appA)
			defer func() {
				if !tt.bTakes {
					a.shutdown(t)
				}
			}()
			waitFor(t, "A holds kudos-schedules and tallied Tuesday", func() bool {
				ran, err := appA.Store.TallyRan(ctx, kudos.TallyArt, days[0])
				return err == nil && ran && logA.acquired(leaseKudosSchedules) == 1
			})
			waitFor(t, "A settled the due award", func() bool {
				b, err := appA.Kudos.Balance(ctx, helper.ID)
				return err == nil && b == 5
			})

			appB := openLoggedApp(t, leaseTestConfig(t, database), clock, logB)
			b := serveApp(t, appB)
			defer b.shutdown(t)
			// B waits: many intervals on, it holds none of A's leases.
			time.Sleep(30 * testLeaseEvery)
			for _, name := range []string{leaseSweeps, leaseKudosSchedules, leaseRetention, leaseWebSnapshots} {
				if n := logB.acquired(name); n != 0 {
					t.Fatalf("B acquired %s while A holds it", name)
				}
			}

			// Saturday noon: Wednesday, Thursday and Friday are due. The
			// holder goes; the lease is taken and its catch-up tallies them.
			clock.Set(tue.AddDate(0, 0, 4).Add(2 * time.Hour))
			ended := time.Now()
			tt.end(t, database, a)
			waitFor(t, "the lease taken again and Friday tallied", func() bool {
				ran, err := appB.Store.TallyRan(ctx, kudos.TallyArt, days[3])
				return err == nil && ran && logA.acquired(leaseKudosSchedules)+logB.acquired(leaseKudosSchedules) == 2
			})
			t.Logf("the lease taken again and the missed days tallied %v after the holder went", time.Since(ended))
			if tt.bTakes && logB.acquired(leaseKudosSchedules) != 1 {
				t.Fatalf("B did not take the lease over from A, shut down")
			}
			if !tt.bTakes && logA.count(`msg="lease lost`, "lease="+leaseKudosSchedules) != 1 {
				t.Fatalf("A did not log the lease lost with its session")
			}

			for _, day := range days {
				if ran, err := appB.Store.TallyRan(ctx, kudos.TallyArt, day); err != nil || !ran {
					t.Fatalf("art tally of %s: ran %v, %v", day, ran, err)
				}
				if n := logA.count(`msg="art tally done"`, "period="+day) + logB.count(`msg="art tally done"`, "period="+day); n != 1 {
					t.Errorf("art tally of %s done %d times, want once", day, n)
				}
			}
			hist, err := appB.Kudos.History(ctx, artist.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			paid := map[string]int{}
			for _, e := range hist {
				paid[e.Key]++
			}
			for _, day := range days {
				if key := "art:" + day + ":post-" + day; paid[key] != 1 {
					t.Errorf("the post of %s paid %d times, want once (%v)", day, paid[key], paid)
				}
			}
			if bal, err := appB.Kudos.Balance(ctx, artist.ID); err != nil || bal != 8 {
				t.Errorf("the artist has %d kudos (%v), want 8: 2 for each of 4 posts", bal, err)
			}
			if bal, err := appB.Kudos.Balance(ctx, helper.ID); err != nil || bal != 5 {
				t.Errorf("the helper has %d kudos (%v), want 5: the award settled once", bal, err)
			}
			if m, err := appB.Store.Verify(ctx); err != nil || len(m) != 0 {
				t.Errorf("ledger: %v, mismatches %v", err, m)
			}
			// Many intervals on, nobody took it again: one holder.
			time.Sleep(30 * testLeaseEvery)
			if n := logA.acquired(leaseKudosSchedules) + logB.acquired(leaseKudosSchedules); n != 2 {
				t.Errorf("kudos-schedules acquired %d times, want 2 (the first holder, then the one taking over)", n)
			}
		})
	}
}

// terminateLeaseHolder ends the database session holding the
// kudos-schedules lease of database (pg_terminate_backend), as a cut
// connection or a killed process would.
func terminateLeaseHolder(t *testing.T, database string, _ *runningApp) {
	t.Helper()
	ctx := context.Background()
	u, err := store.ParseDatabaseURL(database)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", u.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name, schema string
	if err := db.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&name, &schema); err != nil {
		t.Fatal(err)
	}
	var ok bool
	err = db.QueryRowContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
AND ((classid::bigint << 32) | objid::bigint) = $1`, store.LeaseKey(name, schema, leaseKudosSchedules)).Scan(&ok)
	if err != nil || !ok {
		t.Fatalf("terminate the session holding %s: %v (terminated %v)", leaseKudosSchedules, err, ok)
	}
}

// TestLeasesOnSQLiteAllHeld: one process on SQLite holds every lease at
// once and runs all the periodic work (the shared queue's sweeps have no
// lease there: the queue is the process's own).
func TestLeasesOnSQLiteAllHeld(t *testing.T) {
	log := &logBuffer{}
	cfg := testConfig(t, t.TempDir())
	cfg.Web.Enabled = true
	a := serveApp(t, openLoggedApp(t, cfg, nil, log))
	defer a.shutdown(t)
	waitFor(t, "every lease acquired", func() bool {
		return log.acquired(leaseKudosSchedules) == 1 && log.acquired(leaseRetention) == 1 && log.acquired(leaseWebSnapshots) == 1
	})
	if n := log.acquired(leaseSweeps); n != 0 {
		t.Fatalf("the sweeps lease acquired on SQLite (%d times): the memory queue is swept by every process for itself", n)
	}
}

// TestLeasesAPIWithoutKudosSchedules: an `api` process with
// api.kudos_schedules off never takes the kudos schedules' lease (the `run`
// processes, which have Discord, run them), and still runs the rest.
func TestLeasesAPIWithoutKudosSchedules(t *testing.T) {
	log := &logBuffer{}
	cfg := testConfig(t, t.TempDir())
	cfg.Web.Enabled = true
	off := false
	cfg.API.KudosSchedules = &off
	app := openLoggedApp(t, cfg, nil, log)
	app.noKudosSchedules = !cfg.API.runsKudosSchedules()
	a := serveApp(t, app)
	defer a.shutdown(t)
	waitFor(t, "retention and snapshots acquired", func() bool {
		return log.acquired(leaseRetention) == 1 && log.acquired(leaseWebSnapshots) == 1
	})
	if n := log.acquired(leaseKudosSchedules); n != 0 {
		t.Fatalf("kudos-schedules acquired %d times by an api process with api.kudos_schedules off", n)
	}
}
