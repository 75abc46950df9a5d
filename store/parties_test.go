package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
)

// testParty is a party of host in channel, starting now, for an hour.
func testParty(key string, host int64, channel string, now time.Time) kudos.Party {
	return kudos.Party{Key: key, GuildID: "g", ChannelID: channel, HostID: host, Theme: "foxes", Award: 5, Budget: 10,
		Interval: 10 * time.Minute, StartsAt: now, EndsAt: now.Add(time.Hour)}
}

func fundUser(t *testing.T, s *store.Store, user, amount int64) {
	t.Helper()
	if _, err := s.Apply(context.Background(), kudos.Entry{UserID: user, Delta: amount, Kind: kudos.KindAdmin,
		Key: fmt.Sprint("fund:", user), Floor: kudos.NoFloor}); err != nil {
		t.Fatal(err)
	}
}

func wantPartiesBalance(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	if m, err := s.Verify(ctx); err != nil || len(m) > 0 {
		t.Fatalf("ledger verify: %v %v", m, err)
	}
	if m, err := s.VerifyParties(ctx); err != nil || len(m) > 0 {
		t.Fatalf("party verify: %v %v", m, err)
	}
}

// TestOpenPartyOnePerChannel: starts racing in one channel (different
// interactions) open one party and hold one budget; the unique index, not a
// read, decides.
func TestOpenPartyOnePerChannel(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	host := mustUser(t, s, "host")
	fundUser(t, s, host.ID, 100)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	results := make([]error, 8)
	created := make([]bool, 8)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := testParty(fmt.Sprint("k", i), host.ID, "c1", now)
			_, created[i], results[i] = s.OpenParty(ctx, p, p.BudgetEntry(0))
		}(i)
	}
	wg.Wait()
	opened := 0
	for i, err := range results {
		switch {
		case err == nil && created[i]:
			opened++
		case kudos.RefusalCode(err) != kudos.RefusePartyRunning:
			t.Errorf("start %d: %v (created %v), want a party_running refusal", i, err, created[i])
		}
	}
	if opened != 1 {
		t.Fatalf("%d parties opened in one channel, want 1", opened)
	}
	if b, _ := s.Balance(ctx, host.ID); b != 90 {
		t.Fatalf("host has %d, want 90 (one budget held)", b)
	}
	wantPartiesBalance(t, s)
}

func TestPartyStoreRules(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	host, ann := mustUser(t, s, "host"), mustUser(t, s, "ann")
	fundUser(t, s, host.ID, 12)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	p := testParty("k1", host.ID, "c1", now)

	// A budget beyond the balance's floor (0 here) is refused and writes nothing.
	big := p
	big.Budget = 13
	if _, _, err := s.OpenParty(ctx, big, big.BudgetEntry(0)); !kudos.IsRefusal(err) && err == nil {
		t.Fatalf("over budget: %v", err)
	}
	if _, err := s.OpenPartyIn(ctx, "c1"); kudos.RefusalCode(err) != kudos.RefuseNoParty {
		t.Fatalf("a refused party was recorded: %v", err)
	}
	got, created, err := s.OpenParty(ctx, p, p.BudgetEntry(0))
	if err != nil || !created || got.ID == 0 {
		t.Fatalf("open: %+v %v %v", got, created, err)
	}
	// The same key again is a replay: the same party, nothing more held.
	again, created, err := s.OpenParty(ctx, p, p.BudgetEntry(0))
	if err != nil || created || again.ID != got.ID {
		t.Fatalf("replay: %+v %v %v", again, created, err)
	}
	p = got

	award := func(req string, slot int64) kudos.PartyRecorded {
		t.Helper()
		e := p.AwardEntry(ann.ID, slot, now)
		r, err := s.RecordPartyGeneration(ctx, kudos.PartyRecord{PartyID: p.ID, RequestID: req, MemberID: ann.ID, ImageRef: "img-" + req,
			Slot: slot, Amount: p.Award, At: now}, &e)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	steps := []struct {
		name    string
		req     string
		slot    int64
		counted bool
		awarded bool
		refused string
	}{
		{"first in slot 0", "r1", 0, true, true, ""},
		{"the same request again", "r1", 0, false, false, ""},
		{"another in slot 0", "r2", 0, true, false, kudos.PartyNoAwardInterval},
		{"slot 1", "r3", 1, true, true, ""},
		{"slot 2: the budget of 10 is spent", "r4", 2, true, false, kudos.PartyNoAwardBudget},
	}
	for _, st := range steps {
		r := award(st.req, st.slot)
		if r.Counted != st.counted || r.Awarded != st.awarded || r.Refused != st.refused {
			t.Fatalf("%s: %+v, want counted %v awarded %v refused %q", st.name, r, st.counted, st.awarded, st.refused)
		}
		wantPartiesBalance(t, s)
	}
	// The refused budget award left no row behind: slot 2 is still free in
	// the books, and the party counted 4 generations.
	cur, err := s.Party(ctx, p.ID)
	if err != nil || cur.Spent != 10 || cur.Generations != 4 {
		t.Fatalf("party %+v %v, want spent 10 and 4 generations", cur, err)
	}

	closed, ok, err := s.CloseParty(ctx, p.ID, host.ID, now.Add(time.Minute))
	if err != nil || !ok || closed.Refunded != 0 || closed.EndedBy != host.ID {
		t.Fatalf("close: %+v %v %v", closed, ok, err)
	}
	if _, ok, err := s.CloseParty(ctx, p.ID, 0, now.Add(2*time.Minute)); err != nil || ok {
		t.Fatalf("second close: %v %v", ok, err)
	}
	if r := award("r5", 3); r.Counted {
		t.Fatalf("a generation counted after the end: %+v", r)
	}
	// The channel is free for the next party.
	next := testParty("k2", host.ID, "c1", now)
	next.Budget = 2
	next.Award = 1
	if _, created, err := s.OpenParty(ctx, next, next.BudgetEntry(0)); err != nil || !created {
		t.Fatalf("next party: %v %v", created, err)
	}
	wantPartiesBalance(t, s)

	// Books changed behind the store's back are caught.
	if err := store.RawExec(ctx, s, `UPDATE parties SET spent = spent - 5 WHERE id = ?`, p.ID); err != nil {
		t.Fatal(err)
	}
	m, err := s.VerifyParties(ctx)
	if err != nil || len(m) != 1 || m[0].PartyID != p.ID || m[0].Awards != 10 || m[0].Spent != 5 {
		t.Fatalf("verify after tampering: %+v %v", m, err)
	}
}

func TestDueAndUnannouncedParties(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	host := mustUser(t, s, "host")
	fundUser(t, s, host.ID, 100)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for i, ends := range []time.Duration{time.Hour, time.Minute, 2 * time.Hour} {
		p := testParty(fmt.Sprint("k", i), host.ID, fmt.Sprint("c", i), now)
		p.EndsAt = now.Add(ends)
		got, _, err := s.OpenParty(ctx, p, p.BudgetEntry(0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	due, err := s.DueParties(ctx, now.Add(time.Hour), 10)
	if err != nil || len(due) != 2 || due[0].ID != ids[1] || due[1].ID != ids[0] {
		t.Fatalf("due %+v %v, want parties %d and %d, earliest first", due, err, ids[1], ids[0])
	}
	for _, p := range due {
		if _, _, err := s.CloseParty(ctx, p.ID, 0, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if due, err := s.DueParties(ctx, now.Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("due after closing: %+v %v", due, err)
	}
	un, err := s.UnannouncedParties(ctx, 10)
	if err != nil || len(un) != 2 {
		t.Fatalf("unannounced %+v %v", un, err)
	}
	if ok, err := s.ClaimPartyAnnouncement(ctx, ids[2]); err != nil || ok {
		t.Fatalf("claimed the summary of an open party: %v %v", ok, err)
	}
	if ok, err := s.ClaimPartyAnnouncement(ctx, ids[0]); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if un, err := s.UnannouncedParties(ctx, 10); err != nil || len(un) != 1 || un[0].ID != ids[1] {
		t.Fatalf("unannounced after a claim %+v %v", un, err)
	}
	if b, _ := s.Balance(ctx, host.ID); b != 90 {
		t.Fatalf("host has %d, want 90 (two budgets refunded, one held)", b)
	}
	wantPartiesBalance(t, s)
}
