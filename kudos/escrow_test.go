package kudos_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

func TestSplitReward(t *testing.T) {
	tests := []struct {
		name             string
		reward           int64
		percent          int
		wantPaid, wantHe int64
	}{
		{"half of an even reward", 10, 50, 5, 5},
		{"an odd reward rounds the held half down", 11, 50, 6, 5},
		{"one kudo is paid, never held", 1, 50, 1, 0},
		{"no escrow", 10, 0, 10, 0},
		{"negative percent is none", 10, -5, 10, 0},
		{"all held", 10, 100, 0, 10},
		{"over 100 percent is all", 10, 150, 0, 10},
		{"nothing to split", 0, 50, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paid, held := kudos.SplitReward(tt.reward, tt.percent)
			if paid != tt.wantPaid || held != tt.wantHe {
				t.Fatalf("SplitReward(%d, %d) = %d, %d; want %d, %d", tt.reward, tt.percent, paid, held, tt.wantPaid, tt.wantHe)
			}
			if paid+held != tt.reward {
				t.Fatalf("paid %d + held %d != reward %d", paid, held, tt.reward)
			}
		})
	}
}

func TestHoldValidate(t *testing.T) {
	tests := []struct {
		name string
		h    kudos.Hold
		ok   bool
	}{
		{"valid", kudos.Hold{UserID: 1, Amount: 5, Key: "k"}, true},
		{"no key", kudos.Hold{UserID: 1, Amount: 5}, false},
		{"zero amount", kudos.Hold{UserID: 1, Key: "k"}, false},
		{"negative amount", kudos.Hold{UserID: 1, Amount: -5, Key: "k"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.h.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// openEscrowStore is a real store in a temp dir with one user.
func openEscrowStore(t *testing.T) (*store.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st := storetest.MustOpen(t, t.TempDir(), storetest.NewClock(t0))
	u, err := st.CreateUser(ctx, horde.User{Name: "owner"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return st, u.ID
}

func TestEscrowHoldAndRelease(t *testing.T) {
	ctx := context.Background()
	st, owner := openEscrowStore(t)
	var es kudos.EscrowStore = st

	applied, err := es.Hold(ctx, kudos.Hold{UserID: owner, Amount: 7, Key: "job:a:escrow", At: t0},
		kudos.Hold{UserID: owner, Amount: 3, Key: "job:b:escrow", At: t0})
	if err != nil || len(applied) != 2 || !applied[0] || !applied[1] {
		t.Fatalf("hold: %v %v", applied, err)
	}
	// A retried hold is not held twice.
	if applied, err = es.Hold(ctx, kudos.Hold{UserID: owner, Amount: 7, Key: "job:a:escrow", At: t0}); err != nil || applied[0] {
		t.Fatalf("replayed hold: applied %v err %v", applied, err)
	}
	if _, err := es.Hold(ctx, kudos.Hold{UserID: owner, Amount: 0, Key: "bad"}); !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("invalid hold: err %v, want KindInvalid", err)
	}
	if n, err := es.Escrowed(ctx, owner); err != nil || n != 10 {
		t.Fatalf("escrowed %d %v, want 10", n, err)
	}
	if b, _ := st.Balance(ctx, owner); b != 0 {
		t.Fatalf("held kudos are spendable: balance %d", b)
	}

	rel, err := es.ReleaseEscrow(ctx, owner, 42, "trusted", t0)
	if err != nil || rel.Amount != 10 || rel.Holds != 2 {
		t.Fatalf("release: %+v %v", rel, err)
	}
	if b, _ := st.Balance(ctx, owner); b != 10 {
		t.Fatalf("balance after release %d, want 10", b)
	}
	hist, err := st.History(ctx, owner, 5)
	if err != nil || len(hist) != 1 || hist[0].Kind != kudos.KindEscrow || hist[0].Delta != 10 || hist[0].ActorID != 42 {
		t.Fatalf("history %+v %v", hist, err)
	}
	// Nothing left: a second release changes nothing.
	if rel, err := es.ReleaseEscrow(ctx, owner, 42, "again", t0); err != nil || rel.Amount != 0 {
		t.Fatalf("second release: %+v %v", rel, err)
	}
	// New holds after a release are released by the next one.
	if _, err := es.Hold(ctx, kudos.Hold{UserID: owner, Amount: 4, Key: "job:c:escrow", At: t0}); err != nil {
		t.Fatal(err)
	}
	if rel, err := es.ReleaseEscrow(ctx, owner, 0, "later", t0); err != nil || rel.Amount != 4 {
		t.Fatalf("release of a later hold: %+v %v", rel, err)
	}
	if ms, err := st.Verify(ctx); err != nil || len(ms) != 0 {
		t.Fatalf("verify ledger: %v %v", ms, err)
	}
	if ms, err := es.VerifyEscrow(ctx); err != nil || len(ms) != 0 {
		t.Fatalf("verify escrow: %v %v", ms, err)
	}
}

func TestVerifyEscrowFindsAForgedRelease(t *testing.T) {
	ctx := context.Background()
	st, owner := openEscrowStore(t)
	// An escrow_release entry with no holds behind it.
	if _, err := st.Apply(ctx, kudos.Entry{UserID: owner, Delta: 50, Kind: kudos.KindEscrow, Key: "forged", Floor: kudos.NoFloor, At: t0}); err != nil {
		t.Fatal(err)
	}
	ms, err := st.VerifyEscrow(ctx)
	if err != nil || len(ms) != 1 || ms[0].UserID != owner || ms[0].Balance != 50 || ms[0].Sum != 0 {
		t.Fatalf("verify escrow: %+v %v, want one mismatch for the owner", ms, err)
	}
}

func TestConcurrentReleasesPayOnce(t *testing.T) {
	st, owner := openEscrowStore(t)
	raceReleases(t, []*store.Store{st}, owner)
}

// TestConcurrentReleasesAcrossProcessesPayOnce is TestConcurrentReleasesPayOnce
// with the releases split between two processes (two stores on one
// PostgreSQL database): the holds are paid once, and no release fails.
func TestConcurrentReleasesAcrossProcessesPayOnce(t *testing.T) {
	database := storetest.PostgresDatabase(t, t.TempDir()) // skips, saying why, without a server
	var stores []*store.Store
	for range 2 {
		st, err := store.Open(context.Background(), database, store.Options{Clock: storetest.NewClock(t0), Logger: quiet, MaxConns: storetest.TestMaxConns})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	u, err := stores[0].CreateUser(context.Background(), horde.User{Name: "owner"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 40 { // the race is narrow: one round in a few dozen meets it
		raceReleases(t, stores, u.ID)
	}
}

// raceReleases holds 20 times 5 kudos for owner, then releases them from 8
// goroutines at once, through the stores in turn: every release succeeds,
// and the 100 kudos are paid once.
func raceReleases(t *testing.T, stores []*store.Store, owner int64) {
	t.Helper()
	ctx := context.Background()
	before, err := stores[0].Balance(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := stores[0].Hold(ctx, kudos.Hold{UserID: owner, Amount: 5, Key: fmt.Sprint("job:", before, ":", i), At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	var errs []error
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := stores[g%len(stores)].ReleaseEscrow(ctx, owner, 0, "race", t0)
			mu.Lock()
			defer mu.Unlock()
			total += rel.Amount
			errs = append(errs, err)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if b, _ := stores[0].Balance(ctx, owner); total != 100 || b != before+100 {
		t.Fatalf("released %d, balance %d (was %d); want 100 once", total, b, before)
	}
	if ms, err := stores[0].VerifyEscrow(ctx); err != nil || len(ms) != 0 {
		t.Fatalf("verify escrow: %v %v", ms, err)
	}
}
