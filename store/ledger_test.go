package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
)

func entry(user, delta int64, k string) kudos.Entry {
	return kudos.Entry{UserID: user, Delta: delta, Kind: kudos.KindAdmin, Key: k, Floor: kudos.NoFloor}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		prior       []kudos.Entry
		entries     []kudos.Entry
		wantApplied []bool
		wantErr     error
		wantBal     map[int64]int64
	}{
		{
			name:        "credit and debit",
			entries:     []kudos.Entry{entry(1, 10, "a"), entry(2, -3, "b")},
			wantApplied: []bool{true, true},
			wantBal:     map[int64]int64{1: 10, 2: -3},
		},
		{
			name:        "replay is skipped",
			prior:       []kudos.Entry{entry(1, 10, "a")},
			entries:     []kudos.Entry{entry(1, 10, "a"), entry(1, 5, "b")},
			wantApplied: []bool{false, true},
			wantBal:     map[int64]int64{1: 15},
		},
		{
			name:        "same key twice in one call applies once",
			entries:     []kudos.Entry{entry(1, 10, "a"), entry(1, 10, "a")},
			wantApplied: []bool{true, false},
			wantBal:     map[int64]int64{1: 10},
		},
		{
			name:        "floor met",
			prior:       []kudos.Entry{entry(1, 10, "seed")},
			entries:     []kudos.Entry{{UserID: 1, Delta: -10, Kind: kudos.KindTransfer, Key: "t", Floor: 0}},
			wantApplied: []bool{true},
			wantBal:     map[int64]int64{1: 0},
		},
		{
			name:    "floor broken refuses the whole call",
			prior:   []kudos.Entry{entry(1, 10, "seed")},
			entries: []kudos.Entry{entry(2, 11, "credit"), {UserID: 1, Delta: -11, Kind: kudos.KindTransfer, Key: "t", Floor: 0}},
			wantErr: kudos.ErrInsufficient,
			wantBal: map[int64]int64{1: 10, 2: 0},
		},
		{
			name:    "floor on a user with no balance row",
			entries: []kudos.Entry{{UserID: 3, Delta: -1, Kind: kudos.KindTransfer, Key: "t", Floor: 0}},
			wantErr: kudos.ErrInsufficient,
			wantBal: map[int64]int64{3: 0},
		},
		{
			name:        "floor met on a user with no balance row",
			entries:     []kudos.Entry{{UserID: 3, Delta: 5, Kind: kudos.KindTransfer, Key: "t", Floor: 0}},
			wantApplied: []bool{true},
			wantBal:     map[int64]int64{3: 5},
		},
		{
			name:        "negative floor allows debt",
			entries:     []kudos.Entry{{UserID: 3, Delta: -50, Kind: kudos.KindRequestCost, Key: "c", Floor: -100}},
			wantApplied: []bool{true},
			wantBal:     map[int64]int64{3: -50},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustOpen(t)
			if len(tc.prior) > 0 {
				if _, err := s.Apply(ctx, tc.prior...); err != nil {
					t.Fatal(err)
				}
			}
			applied, err := s.Apply(ctx, tc.entries...)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(applied, tc.wantApplied) {
				t.Fatalf("applied = %v, want %v", applied, tc.wantApplied)
			}
			for u, want := range tc.wantBal {
				if got := mustBalance(t, s, u); got != want {
					t.Fatalf("balance of %d = %d, want %d", u, got, want)
				}
			}
			mustVerify(t, s)
		})
	}
}

// TestApplyRejectsInvalidEntries: an entry that fails validation is a bug
// of the code that built it, so it is KindInternal (logged; a member reads
// the generic failure, a worker a 500), not KindInvalid ("Invalid ledger
// entry." to a member, a non-retryable 400 to a worker), and nothing of the
// call is applied.
func TestApplyRejectsInvalidEntries(t *testing.T) {
	s := mustOpen(t)
	tests := []struct {
		name string
		e    kudos.Entry
	}{
		{"no key", kudos.Entry{UserID: 1, Delta: 1, Kind: kudos.KindAdmin}},
		{"no kind", kudos.Entry{UserID: 1, Delta: 1, Key: "k"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Apply(context.Background(), entry(1, 1, "ok"), tc.e)
			wantKind(t, err, horde.KindInternal, nil)
		})
	}
	if b := mustBalance(t, s, 1); b != 0 {
		t.Fatalf("balance = %d after refused calls", b)
	}
}

func TestHistoryNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		e := entry(1, int64(i), key(i))
		e.At = base.Add(time.Duration(i) * time.Minute)
		e.Reason, e.ActorID, e.Ref = "why", 9, "ref"
		if _, err := s.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Apply(ctx, entry(2, 100, "other")); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Fatalf("history has %d entries, want 3", len(h))
	}
	for i, e := range h {
		n := 4 - i
		if e.Key != key(n) || e.Delta != int64(n) || !e.At.Equal(base.Add(time.Duration(n)*time.Minute)) ||
			e.Reason != "why" || e.ActorID != 9 || e.Ref != "ref" || e.Kind != kudos.KindAdmin || e.ID == 0 {
			t.Fatalf("history[%d] = %+v", i, e)
		}
	}
	all, err := s.History(ctx, 1, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("default limit history = %d entries, %v", len(all), err)
	}
	none, err := s.History(ctx, 42, 10)
	if err != nil || len(none) != 0 {
		t.Fatalf("history of a user with no entries = %v, %v", none, err)
	}
}

func TestBalanceOfUnknownUserIsZero(t *testing.T) {
	if b := mustBalance(t, mustOpen(t), 12345); b != 0 {
		t.Fatalf("balance = %d", b)
	}
}

func TestVerifyFindsTamperedBalances(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.Apply(ctx, entry(1, 10, "a"), entry(1, 5, "b"), entry(2, 7, "c")); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, s)

	// Tamper behind the store's back: a changed balance, and a balance with no entries.
	if err := store.RawExec(ctx, s, `UPDATE balances SET kudos = 99 WHERE user_id = 1`); err != nil {
		t.Fatal(err)
	}
	if err := store.RawExec(ctx, s, `INSERT INTO balances (user_id, kudos) VALUES (3, 4)`); err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []kudos.Mismatch{{UserID: 1, Balance: 99, Sum: 15}, {UserID: 3, Balance: 4, Sum: 0}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mismatches = %+v, want %+v", got, want)
	}
}

// TestManyEntriesRollUpAsOne: entries applied many at once (a settle of
// awards, a tally) leave the rollups as the same entries applied one by one
// would: replays, several entries of one member and day, costs and gains.
func TestManyEntriesRollUpAsOne(t *testing.T) {
	ctx := context.Background()
	day0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	batch := func(prefix string) []kudos.Entry {
		var es []kudos.Entry
		for i := range 700 {
			es = append(es, kudos.Entry{UserID: int64(1 + i%350), Delta: int64(i%7) - 2, Kind: kudos.KindAwardHelpful,
				Key: fmt.Sprintf("%s%d", prefix, i%690), Floor: kudos.NoFloor, At: day0.Add(time.Duration(i%3) * 20 * time.Hour)})
		}
		return es
	}
	bulk, single := mustOpen(t), mustOpen(t)
	for i := range 350 {
		mustUser(t, bulk, fmt.Sprint("u", i))
		mustUser(t, single, fmt.Sprint("u", i))
	}
	for _, prefix := range []string{"a", "b", "a"} { // the second "a" replays every entry
		if _, err := bulk.Apply(ctx, batch(prefix)...); err != nil {
			t.Fatal(err)
		}
		for _, e := range batch(prefix) {
			if _, err := single.Apply(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustVerify(t, bulk)
	for user := int64(1); user <= 350; user += 49 {
		got, err := bulk.KudosByDay(ctx, user, day0.Add(-24*time.Hour), day0.Add(72*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want, err := single.KudosByDay(ctx, user, day0.Add(-24*time.Hour), day0.Add(72*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || len(got) == 0 {
			t.Errorf("user %d: kudos by day %v applied at once, %v one by one", user, got, want)
		}
		gotA, err := bulk.AwardsReceived(ctx, user, []kudos.EntryKind{kudos.KindAwardHelpful})
		if err != nil {
			t.Fatal(err)
		}
		wantA, err := single.AwardsReceived(ctx, user, []kudos.EntryKind{kudos.KindAwardHelpful})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotA, wantA) {
			t.Errorf("user %d: awards %v applied at once, %v one by one", user, gotA, wantA)
		}
	}
}
