package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// TestMemberStandings: the role rewards read a member's balance, trust and
// all-time earnings per kind (positive entries only) by Discord id; members
// without an account are absent. KudosChangedSince names each member whose
// ledger moved after the cursor, once.
func TestMemberStandings(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	alice, err := s.CreateUser(ctx, horde.User{Name: "alice", DiscordID: "111"}, "")
	mustNoErr(t, err)
	bob, err := s.CreateUser(ctx, horde.User{Name: "bob", DiscordID: "222"}, "")
	mustNoErr(t, err)
	api := mustUser(t, s, "api-only")
	_, err = s.SetTrusted(ctx, bob.ID, true)
	mustNoErr(t, err)
	_, end, err := s.KudosChangedSince(ctx, -1, 0)
	mustNoErr(t, err)
	entries := []kudos.Entry{
		{UserID: alice.ID, Delta: 30, Kind: kudos.KindAwardArt, Key: "a1"},
		{UserID: alice.ID, Delta: 5, Kind: kudos.KindAwardArt, Key: "a2"},
		{UserID: alice.ID, Delta: -10, Kind: kudos.KindAwardArt, Key: "a3"}, // a revoked award is not earned
		{UserID: alice.ID, Delta: 100, Kind: kudos.KindTransfer, Key: "a4"},
		{UserID: bob.ID, Delta: 7, Kind: kudos.KindGeneration, Key: "b1"},
		{UserID: api.ID, Delta: 9, Kind: kudos.KindGeneration, Key: "c1"},
	}
	for i := range entries {
		entries[i].Floor = kudos.NoFloor
	}
	_, err = s.Apply(ctx, entries...)
	mustNoErr(t, err)

	got, err := s.MemberStandings(ctx, []string{"111", "222", "333"})
	mustNoErr(t, err)
	if _, ok := got["333"]; ok || len(got) != 2 {
		t.Fatalf("standings = %+v, want alice and bob only", got)
	}
	a, b := got["111"], got["222"]
	if a.UserID != alice.ID || a.Balance != 125 || a.Trusted || a.Earned[kudos.KindAwardArt] != 35 || a.Earned[kudos.KindTransfer] != 0 {
		t.Errorf("alice = %+v, want balance 125, art earned 35, transfers not earnings, untrusted", a)
	}
	if b.UserID != bob.ID || b.Balance != 7 || !b.Trusted || b.Earned[kudos.KindGeneration] != 7 {
		t.Errorf("bob = %+v, want balance 7, generation 7, trusted", b)
	}

	ids, next, err := s.KudosChangedSince(ctx, end, 100)
	mustNoErr(t, err)
	if !slices.Equal(ids, []string{"111", "222"}) {
		t.Errorf("changed = %v, want alice then bob once each (the API-only user has no Discord id)", ids)
	}
	ids, next2, err := s.KudosChangedSince(ctx, next, 100)
	mustNoErr(t, err)
	if len(ids) != 0 || next2 != next {
		t.Errorf("nothing new, yet changed = %v (cursor %d -> %d)", ids, next, next2)
	}
	ids, _, err = s.KudosChangedSince(ctx, end, 2)
	mustNoErr(t, err)
	if !slices.Equal(ids, []string{"111"}) {
		t.Errorf("two entries read: changed = %v, want alice", ids)
	}
}

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
