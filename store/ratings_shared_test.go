package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestRatingCapAcrossProcesses: a member's ratings sent to two processes
// sharing one PostgreSQL database at once are paid within the daily cap
// in total, as one process pays them.
func TestRatingCapAcrossProcesses(t *testing.T) {
	database := storetest.PostgresDatabase(t, t.TempDir()) // skips, saying why, without a server
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	var stores []*store.Store
	for range 2 {
		st, err := store.Open(ctx, database, store.Options{Clock: clock, Logger: quietLogger, MaxConns: storetest.TestMaxConns})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	const (
		ratings  = 24
		reward   = 5
		dailyCap = 12 // two ratings and a part of a third
	)
	day := clock.Now().Truncate(24 * time.Hour)
	for round := range 3 {
		rater, err := stores[0].CreateUser(ctx, horde.User{Name: fmt.Sprintf("rater%d", round)}, "")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range ratings {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gen := fmt.Sprintf("gen-%d-%d", round, i)
				row := horde.RatingRecord{UserID: rater.ID, GenerationID: gen, RequestID: "req-" + gen, Rating: 7, At: clock.Now()}
				entry := kudos.Entry{UserID: rater.ID, Delta: reward, Kind: kudos.KindRating, Reason: "rated an image",
					Key: "rating:" + gen, Floor: kudos.NoFloor, At: clock.Now()}
				if _, err := stores[i%2].RecordRatings(ctx, []horde.RatingRecord{row}, entry, day, dailyCap); err != nil {
					t.Errorf("rating %s: %v", gen, err)
				}
			}()
		}
		wg.Wait()
		b, err := stores[0].Balance(ctx, rater.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b != dailyCap {
			t.Fatalf("round %d: %d ratings over two processes paid %d kudos, want the daily cap %d", round, ratings, b, dailyCap)
		}
	}
}
