package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestPrunePartiesKeepsTheBooks: retention removes an ended party whose
// summary was posted once it is older than the cut-off, and keeps an open
// one, one ended but still owed its summary, and one ended too recently;
// the ledger and the remaining parties still verify.
func TestPrunePartiesKeepsTheBooks(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	host := mustUser(t, s, "host")
	fundUser(t, s, host.ID, 100)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	open := func(i int) int64 {
		p := testParty(fmt.Sprint("k", i), host.ID, fmt.Sprint("c", i), now)
		got, _, err := s.OpenParty(ctx, p, p.BudgetEntry(0))
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	closeAt := func(id int64, at time.Time, announce bool) {
		if _, _, err := s.CloseParty(ctx, id, 0, at); err != nil {
			t.Fatal(err)
		}
		if announce {
			if ok, err := s.ClaimPartyAnnouncement(ctx, id); err != nil || !ok {
				t.Fatalf("claim the summary of party %d: %v %v", id, ok, err)
			}
		}
	}
	old, owed, recent, running := open(0), open(1), open(2), open(3)
	closeAt(old, now.Add(time.Hour), true)
	closeAt(owed, now.Add(time.Hour), false)
	closeAt(recent, now.Add(48*time.Hour), true)

	n, err := s.PruneParties(ctx, now.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d parties, %v; want 1", n, err)
	}
	if _, err := s.Party(ctx, old); err == nil {
		t.Errorf("party %d (ended and announced before the cut-off) is still there", old)
	}
	for _, id := range []int64{owed, recent, running} {
		if _, err := s.Party(ctx, id); err != nil {
			t.Errorf("party %d was pruned: %v", id, err)
		}
	}
	if n, err := s.PruneParties(ctx, now.Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("a second prune removed %d, %v; want 0", n, err)
	}
	if b, _ := s.Balance(ctx, host.ID); b != 90 {
		t.Fatalf("host has %d, want 90 (three budgets refunded, one held; pruning moves no kudos)", b)
	}
	wantPartiesBalance(t, s)
}
