package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestKudosVerifyChecksTheRollups: `kudos verify` says the ledger rollups
// (what the leaderboards and web pages read) are exact, and names the row
// that drifted when one does.
func TestKudosVerifyChecksTheRollups(t *testing.T) {
	storetest.SkipOnPostgres(t, "changes the SQLite file behind the command's back")
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	dir := t.TempDir()
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	st := storetest.MustOpen(t, dir, storetest.NewClock(at))
	if _, err := st.Apply(ctx,
		kudos.Entry{UserID: 1, Delta: 7, Kind: kudos.KindAwardHelpful, Key: "a", Floor: kudos.NoFloor, At: at},
		kudos.Entry{UserID: 2, Delta: -3, Kind: kudos.KindRequestCost, Key: "b", Floor: kudos.NoFloor, At: at},
	); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"kudos", "verify", "--data", dir}, &out, io.Discard, noEnv); err != nil ||
		!strings.Contains(out.String(), "ok: every ledger rollup") {
		t.Fatalf("kudos verify: %v %q", err, out.String())
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE ledger_days SET earned = earned + 5 WHERE user_id = 1`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"kudos", "verify", "--data", dir}, &out, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "1 ledger rollups") {
		t.Fatalf("kudos verify after a drift: %v, want 1 ledger rollup differing", err)
	}
	want := "user 1: award_helpful 2026-03-04 in ledger_days: rollup 1 entries summing 7 (1 positive summing 12), ledger 1 entries summing 7 (1 positive summing 7)"
	if !strings.Contains(out.String(), want) {
		t.Errorf("kudos verify printed %q, want the line %q", out.String(), want)
	}
}

// TestKudosVerifyChecksTheParties: `kudos verify` says every party's books
// balance (an open party holds its budget less its awards), and names the
// party whose row drifted from its ledger entries.
func TestKudosVerifyChecksTheParties(t *testing.T) {
	storetest.SkipOnPostgres(t, "changes the SQLite file behind the command's back")
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	dir := t.TempDir()
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	st := storetest.MustOpen(t, dir, storetest.NewClock(at))
	eng, err := kudos.New(st, kudos.DefaultConfig(), storetest.NewClock(at))
	if err != nil {
		t.Fatal(err)
	}
	host, err := st.CreateUser(ctx, horde.User{Name: "host"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, kudos.Entry{UserID: host.ID, Delta: 50, Kind: kudos.KindAdmin, Key: "fund", Floor: kudos.NoFloor, At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.StartParty(ctx, kudos.PartyStart{HostID: host.ID, GuildID: "g", ChannelID: "c", Theme: "foxes",
		Duration: time.Hour, Award: 5, Budget: 20, Key: "i1"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"kudos", "verify", "--data", dir}, &out, io.Discard, noEnv); err != nil ||
		!strings.Contains(out.String(), "ok: every party's ledger entries net to minus what it holds") {
		t.Fatalf("kudos verify: %v %q", err, out.String())
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE parties SET budget = 25`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"kudos", "verify", "--data", dir}, &out, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "1 parties' books differ") {
		t.Fatalf("kudos verify after a drift: %v, want 1 party differing", err)
	}
	if want := "party 1: its ledger entries sum to -20, want -25"; !strings.Contains(out.String(), want) {
		t.Errorf("kudos verify printed %q, want %q", out.String(), want)
	}
}
