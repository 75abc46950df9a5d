package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()

	s := mustOpenDir(t, dir, clock)
	u, err := s.CreateUser(ctx, horde.User{Name: "alice", DiscordID: "1"}, horde.HashKey("alice"))
	if err != nil {
		t.Fatal(err)
	}
	mustWorker(t, s, "w", u.ID)
	mustRequest(t, s, "r", u.ID, 2)
	mustStart(t, s, "j0", "r", 0, "w")
	j1 := mustStart(t, s, "j1", "r", 1, "w")
	if err := s.FinishJob(ctx, finish(j1, horde.RequestProcessing, u.ID, 0, 7)); err != nil {
		t.Fatal(err)
	}
	ref, err := s.PutBlob(ctx, []byte("pixels"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := s.Apply(ctx, entry(1, 1, "after-close")); !horde.IsKind(err, horde.KindUnavailable) {
		t.Fatalf("write after close = %v, want KindUnavailable", err)
	}

	s = mustOpenDir(t, dir, clock) // migrations are not applied twice
	if c, err := s.Credential(ctx, horde.HashKey("alice")); err != nil || c.User != u {
		t.Fatalf("credential after restart = %+v, %v", c, err)
	}
	if ws, err := s.Workers(ctx); err != nil || len(ws) != 1 {
		t.Fatalf("workers after restart = %+v, %v", ws, err)
	}
	snap, err := s.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Requests) != 1 || snap.Requests[0].ID != "r" || len(snap.Jobs) != 1 || snap.Jobs[0].ID != "j0" || snap.Done["r"] != 1 {
		t.Fatalf("snapshot after restart = %+v", snap)
	}
	if gens, err := s.Generations(ctx, "r"); err != nil || len(gens) != 1 {
		t.Fatalf("generations after restart = %+v, %v", gens, err)
	}
	if b := mustBalance(t, s, u.ID); b != 7 {
		t.Fatalf("balance after restart = %d", b)
	}
	if got, err := s.Blob(ctx, ref); err != nil || !bytes.Equal(got, []byte("pixels")) {
		t.Fatalf("blob after restart = %q, %v", got, err)
	}
	// The ledger remembers applied keys across restarts.
	applied, err := s.Apply(ctx, kudos.Entry{UserID: u.ID, Delta: 7, Kind: kudos.KindGeneration, Key: "gen:j1", Floor: kudos.NoFloor})
	if err != nil || applied[0] {
		t.Fatalf("replayed entry after restart: applied=%v err=%v", applied, err)
	}
	mustVerify(t, s)
}
