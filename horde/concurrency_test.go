package horde_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestConcurrentPopsAndSubmits runs several workers at once against one
// queue: every item is handed out exactly once, every request finishes, and
// the ledger balances.
func TestConcurrentPopsAndSubmits(t *testing.T) {
	e := newEnv(t, horde.Config{Concurrency: 100})
	alice := e.user("alice", 10000)
	const requests, workers = 30, 4
	var ids []string
	for i := 0; i < requests; i++ {
		nr := imageRequest(fmt.Sprintf("picture %d", i), []string{"sd15", "sdxl"}[i%2])
		nr.N = 1 + i%3
		ids = append(ids, e.submit(alice, nr).ID)
	}
	var (
		mu    sync.Mutex
		seen  = map[string]bool{} // request/item
		dupes []string
		wg    sync.WaitGroup
		errs  = make(chan error, workers)
	)
	for w := 0; w < workers; w++ {
		c := e.user(fmt.Sprintf("owner%d", w), 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := imagePop(fmt.Sprintf("rig%d", w), "sd15", "sdxl")
			p.Amount = 2
			for {
				as, _, err := e.h.Pop(e.ctx, c, p)
				if err != nil {
					errs <- err
					return
				}
				if len(as) == 0 {
					return
				}
				for _, a := range as {
					key := fmt.Sprintf("%s/%d", a.Request.ID, a.Job.Item)
					mu.Lock()
					if seen[key] {
						dupes = append(dupes, key)
					}
					seen[key] = true
					mu.Unlock()
					// Two submits of one job race: exactly one may win.
					results := make(chan error, 2)
					for k := 0; k < 2; k++ {
						go func() {
							_, err := e.h.SubmitResult(e.ctx, c, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: []byte("img")})
							results <- err
						}()
					}
					e1, e2 := <-results, <-results
					if (e1 == nil) == (e2 == nil) || (e1 != nil && !horde.IsKind(e1, horde.KindConflict)) || (e2 != nil && !horde.IsKind(e2, horde.KindConflict)) {
						errs <- fmt.Errorf("double submit of %s: %v / %v", a.Job.ID, e1, e2)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(dupes) > 0 {
		t.Fatalf("items handed out twice: %v", dupes)
	}
	for _, id := range ids {
		if p := e.check(id); !p.Done || p.Finished != p.Request.N {
			t.Errorf("request %s: done %v finished %d of %d", id, p.Done, p.Finished, p.Request.N)
		}
	}
	mismatches, err := e.st.Verify(e.ctx)
	if err != nil || len(mismatches) != 0 {
		t.Fatalf("ledger verify: %v %v", mismatches, err)
	}
}
