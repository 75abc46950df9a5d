package store_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// Concurrent writers share transactions (group commit); each caller must see
// exactly its own outcome.
func TestConcurrentWritersSeeTheirOwnOutcome(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	const writers, each = 8, 40
	if _, err := s.Apply(ctx, entry(100, 1000, "seed")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	var refused, paid sync.Map
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				k := fmt.Sprintf("w%d-%d", w, i)
				switch i % 4 {
				case 0: // always refused: a floor no one can meet
					_, err := s.Apply(ctx, kudos.Entry{UserID: int64(w + 1), Delta: -1, Kind: kudos.KindTransfer, Key: k, Floor: 1 << 40})
					if !errors.Is(err, kudos.ErrInsufficient) {
						errs <- fmt.Errorf("%s: want ErrInsufficient, got %v", k, err)
					}
					refused.Store(k, true)
				case 1: // a duplicate of a shared key: exactly one writer applies it
					applied, err := s.Apply(ctx, entry(200, 1, fmt.Sprintf("shared-%d", i)))
					if err != nil {
						errs <- err
					} else if applied[0] {
						paid.Store(fmt.Sprintf("shared-%d", i), w)
					}
				default:
					if _, err := s.Apply(ctx, entry(int64(w+1), 2, k)); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	// Meanwhile, a request is popped and finished and readers read.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			id := fmt.Sprintf("r%d", i)
			if err := s.CreateRequest(ctx, imageRequest(id, 0, 1)); err != nil {
				errs <- err
				return
			}
			j := job("j"+id, id, 0, "w")
			if err := s.StartJob(ctx, j); err != nil {
				errs <- err
				return
			}
			if err := s.FinishJob(ctx, finish(j, horde.RequestDone, 300, 0, 1)); err != nil {
				errs <- err
			}
			if _, err := s.Balance(ctx, 300); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := 0; w < writers; w++ {
		// Per writer: each/4 refused, each/4 shared, each/2 credits of 2.
		if got, want := mustBalance(t, s, int64(w+1)), int64(each/2*2); got != want {
			t.Errorf("writer %d balance = %d, want %d", w, got, want)
		}
	}
	if got, want := mustBalance(t, s, 200), int64(each/4); got != want {
		t.Errorf("shared balance = %d, want %d (one payment per shared key)", got, want)
	}
	if got := mustBalance(t, s, 300); got != 20 {
		t.Errorf("worker balance = %d, want 20", got)
	}
	mustVerify(t, s)
}

func TestCancelledContextWritesNothing(t *testing.T) {
	s := mustOpen(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Apply(ctx, entry(1, 5, "k")); !errors.Is(err, context.Canceled) {
		t.Fatalf("apply with a cancelled context = %v", err)
	}
	if b := mustBalance(t, s, 1); b != 0 {
		t.Fatalf("balance = %d", b)
	}
}

// Writes racing with Close either commit or fail with KindUnavailable; none hangs.
func TestCloseDuringWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpenDir(t, dir, nil)
	var wg sync.WaitGroup
	var committed, refused atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				_, err := s.Apply(ctx, entry(int64(w), 1, fmt.Sprintf("%d-%d", w, i)))
				switch {
				case err == nil:
					committed.Add(1)
				case horde.IsKind(err, horde.KindUnavailable):
					refused.Add(1)
				default:
					t.Errorf("write during close: %v", err)
					return
				}
			}
		}()
	}
	for committed.Load() == 0 {
		runtime.Gosched()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if refused.Load() == 0 {
		t.Fatal("no write was refused after Close")
	}
	// Every acknowledged write is there after reopening.
	s2 := mustOpenDir(t, dir, nil)
	var sum int64
	for w := 0; w < 4; w++ {
		sum += mustBalance(t, s2, int64(w))
	}
	if sum != committed.Load() {
		t.Fatalf("balances sum to %d, %d writes were acknowledged", sum, committed.Load())
	}
}
