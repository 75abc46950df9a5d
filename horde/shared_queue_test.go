package horde_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// newSharedEnv is a horde on the shared queue of a PostgreSQL schema of
// its own (skipped, saying so, without HORDEBOT_TEST_POSTGRES_URL). Its
// peers (peer) are other hordes on the same schema, as other processes
// would be.
func newSharedEnv(tb testing.TB, cfg horde.Config) *env {
	tb.Helper()
	return newEnvOn(tb, cfg, tb.Context(), true)
}

// peer is another horde (another store, another pool) on e's database and
// clock.
func (e *env) peer() *env {
	e.tb.Helper()
	p := &env{tb: e.tb, ctx: e.ctx, clock: e.clock, dir: e.dir, cfg: e.cfg, keys: e.keys, shared: true}
	p.open()
	e.tb.Cleanup(func() {
		if err := p.st.Close(); err != nil {
			e.tb.Errorf("close peer store: %v", err)
		}
	})
	return p
}

func TestSharedQueueServesAcrossProcesses(t *testing.T) {
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	alice := a.user("alice", 1000)
	bob := a.user("bob", 0)

	req := a.submit(alice, imageRequest("a lighthouse at dusk"))
	if p := b.check(req.ID); p.Waiting != 1 || p.Done {
		t.Fatalf("status on B of a request accepted on A: waiting %d done %v, want 1 waiting", p.Waiting, p.Done)
	}
	as := b.popOne(bob, imagePop("bob-gpu"))
	if as.Job.RequestID != req.ID || as.Request.Prompt != req.Prompt {
		t.Fatalf("B popped %s (%q), want request %s accepted on A", as.Job.RequestID, as.Request.Prompt, req.ID)
	}
	if more, _ := a.pop(bob, imagePop("bob-gpu")); len(more) != 0 {
		t.Fatalf("A handed out job %s of the item B popped", more[0].Job.ID)
	}
	if p := a.check(req.ID); p.Processing != 1 {
		t.Fatalf("status on A of the job popped on B: processing %d, want 1", p.Processing)
	}
	if reward := a.submitOK(bob, as.Job.ID); reward <= 0 {
		t.Fatalf("submit on A of the job popped on B earned %d kudos, want some", reward)
	}
	p, gens, err := b.h.Status(b.ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Done || p.Finished != 1 || len(gens) != 1 {
		t.Fatalf("status on B after the submit on A: done %v finished %d generations %d, want done with 1", p.Done, p.Finished, len(gens))
	}
	_, err = b.h.SubmitResult(b.ctx, bob, horde.Submission{JobID: as.Job.ID, State: horde.ResultOK, Image: []byte("RIFF....WEBPfake")})
	if !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("second submit on B of the job submitted on A: %v, want a conflict", err)
	}

	// A cancel on B of a request accepted on A ends it for A too.
	other := a.submit(alice, imageRequest("a second lighthouse"))
	if p, _, err := b.h.Cancel(b.ctx, other.ID); err != nil || p.Request.State != horde.RequestCancelled {
		t.Fatalf("cancel on B: %v, state %s; want cancelled", err, p.Request.State)
	}
	if as, _ := a.pop(bob, imagePop("bob-gpu")); len(as) != 0 {
		t.Fatalf("A handed out job %s of a request cancelled on B", as[0].Job.ID)
	}
}

func TestSharedQueueOrderIsThePriorityKey(t *testing.T) {
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	poor := a.user("poor", 10)
	rich := a.user("rich", 5000)
	bob := a.user("bob", 0)

	first := a.submit(poor, imageRequest("first, poor"))
	a.clock.Advance(1000)
	second := b.submit(rich, imageRequest("second, rich"))
	third := b.submit(poor, imageRequest("third, poor"))
	want := []string{second.ID, first.ID, third.ID}
	for i, id := range want {
		if p := []*env{a, b}[i%2].check(id); p.QueuePosition != i {
			t.Errorf("request %d in priority order: queue position %d, want %d ahead", i+1, p.QueuePosition, i)
		}
	}
	for i, w := range want {
		e := []*env{a, b}[i%2]
		if got := e.popOne(bob, imagePop("bob-gpu")).Job.RequestID; got != w {
			t.Fatalf("pop %d: request %s, want %s (kudos first, then FIFO)", i+1, got, w)
		}
	}
}

func TestSharedQueueNoItemServedTwice(t *testing.T) {
	const requests, users = 200, 10
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	hordes := []*env{a, b}
	var reqIDs []string
	for u := range users {
		c := a.user(fmt.Sprintf("member%d", u), 100000)
		for i := range requests / users {
			e := hordes[(u+i)%2]
			reqIDs = append(reqIDs, e.submit(c, imageRequest(fmt.Sprintf("prompt %d of %d", i, u))).ID)
		}
	}

	var (
		mu     sync.Mutex
		served = map[string]string{} // request -> job
		done   atomic.Int64
		wg     sync.WaitGroup
		errs   = make(chan error, 16)
	)
	for w := range 8 {
		owner := a.user(fmt.Sprintf("owner%d", w), 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			idle := 0
			for i := 0; done.Load() < requests; i++ {
				pe, se := hordes[(w+i)%2], hordes[(w+i+1)%2] // pop on one, submit on the other
				as, _, err := pe.h.Pop(pe.ctx, owner, imagePop(fmt.Sprintf("worker%d", w)))
				if err != nil {
					errs <- fmt.Errorf("worker %d pop: %w", w, err)
					return
				}
				if len(as) == 0 {
					if idle++; idle > 100000 {
						errs <- errors.New("no job for 100000 pops with requests left")
						return
					}
					runtime.Gosched()
					continue
				}
				idle = 0
				for _, as := range as {
					mu.Lock()
					if prev, dup := served[as.Job.RequestID]; dup {
						mu.Unlock()
						errs <- fmt.Errorf("request %s served twice: jobs %s and %s", as.Job.RequestID, prev, as.Job.ID)
						return
					}
					served[as.Job.RequestID] = as.Job.ID
					mu.Unlock()
					if _, err := se.h.SubmitResult(se.ctx, owner, horde.Submission{JobID: as.Job.ID, State: horde.ResultOK, Image: []byte("RIFF....WEBPfake")}); err != nil {
						errs <- fmt.Errorf("submit %s: %w", as.Job.ID, err)
						return
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, id := range reqIDs {
		if p := hordes[i%2].check(id); !p.Done || p.Finished != 1 {
			t.Errorf("request %s: done %v finished %d, want done with 1", id, p.Done, p.Finished)
		}
	}
}

// TestPopWalksPastWhatTheWorkerCannotServe: a pop passes over many
// requests it may not take (more than one read of candidates) to the first
// it may, and says how many it passed over and why.
func TestPopWalksPastWhatTheWorkerCannotServe(t *testing.T) {
	e := newEnv(t, horde.Config{Concurrency: 100})
	alice := e.user("alice", 100000)
	bob := e.user("bob", 0)
	const nsfw = 70
	for i := range nsfw {
		nr := imageRequest(fmt.Sprintf("nsfw %d", i), "sd15")
		nr.NSFW = true
		e.submit(alice, nr)
	}
	sfw := e.submit(alice, imageRequest("a plain thing", "sd15"))
	as, skipped := e.pop(bob, imagePop("bob-gpu", "sd15"))
	if len(as) != 1 || as[0].Job.RequestID != sfw.ID {
		t.Fatalf("got %d jobs (skipped %v), want the one sfw request behind %d nsfw ones", len(as), skipped, nsfw)
	}
	if skipped[horde.SkipNSFW] != nsfw {
		t.Errorf("skipped %v, want nsfw: %d", skipped, nsfw)
	}
}

// TestSharedSweepRunsInOneProcess: on the shared queue the TTL aborts and
// the expiry are SweepShared's, which one process (the holder of the
// "sweeps" lease) runs for all: a process's SweepLocal leaves another's
// overdue job and unpopped request alone, and SweepShared on any process
// ends them, once.
func TestSharedSweepRunsInOneProcess(t *testing.T) {
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	alice := a.user("alice", 100)
	slow := a.user("slow", 0)
	req := a.submit(alice, imageRequest("a bridge", "sd15"))
	lonely := a.submit(alice, imageRequest("nobody serves this", "rare-model"))
	job := a.popOne(slow, imagePop("slow-rig", "sd15"))

	a.clock.Advance(horde.ExpireAfter + time.Second) // past the job's TTL too
	for _, e := range []*env{a, b} {
		if err := e.h.SweepLocal(e.ctx); err != nil {
			t.Fatalf("local sweep: %v", err)
		}
	}
	if p := b.check(req.ID); p.Processing != 1 || p.Restarted != 0 {
		t.Fatalf("after the local sweeps: processing %d restarted %d, want the job still processing", p.Processing, p.Restarted)
	}
	if p := b.check(lonely.ID); p.Done {
		t.Fatalf("a local sweep expired a request of the shared queue")
	}

	if err := b.h.SweepShared(b.ctx); err != nil {
		t.Fatalf("shared sweep on B: %v", err)
	}
	if p := a.check(req.ID); p.Processing != 0 || p.Waiting != 1 || p.Restarted != 1 {
		t.Fatalf("after B's shared sweep: processing %d waiting %d restarted %d, want the job popped on A aborted", p.Processing, p.Waiting, p.Restarted)
	}
	if p := a.check(lonely.ID); !p.Done || !p.Faulted || p.Request.Reason != "expired" {
		t.Fatalf("after B's shared sweep: done %v faulted %v reason %q, want expired", p.Done, p.Faulted, p.Request.Reason)
	}
	if err := a.h.SweepShared(a.ctx); err != nil {
		t.Fatalf("shared sweep on A after B's: %v", err)
	}
	if p := a.check(req.ID); p.Restarted != 1 {
		t.Fatalf("a second shared sweep restarted the job again: restarted %d", p.Restarted)
	}
	if _, err := a.h.SubmitResult(a.ctx, slow, horde.Submission{JobID: job.Job.ID, State: horde.ResultOK, Image: []byte("late")}); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("late submit of the aborted job: %v, want a conflict", err)
	}
}

// TestSharedPopIsOneTransaction: a pop on the shared queue looks at the
// worker's owner's requests first and then at its models' buckets, in one
// write transaction (the owner's tier is usually empty: in a transaction
// of its own it cost every pop two more round trips and another turn of
// the writer), and still serves the owner first.
func TestSharedPopIsOneTransaction(t *testing.T) {
	e := newSharedEnv(t, horde.Config{})
	alice := e.user("alice", 1000)
	bob := e.user("bob", 1000)
	if as, _ := e.pop(bob, imagePop("bob-gpu")); len(as) != 0 { // registers the worker
		t.Fatalf("an empty queue handed out %d jobs", len(as))
	}
	pop := func(what string) []horde.Assignment {
		t.Helper()
		before := e.st.Commits()
		as, _ := e.pop(bob, imagePop("bob-gpu"))
		if n := e.st.Commits() - before; n != 1 {
			t.Errorf("%s: %d transactions committed, want 1", what, n)
		}
		return as
	}
	if as := pop("a pop of an empty queue"); len(as) != 0 {
		t.Fatalf("an empty queue handed out %d jobs", len(as))
	}
	other := e.submit(alice, imageRequest("a lighthouse at dusk"))
	if as := pop("a pop of another member's request"); len(as) != 1 || as[0].Job.RequestID != other.ID {
		t.Fatalf("popped %+v, want alice's request %s", as, other.ID)
	}
	e.clock.Advance(time.Second)
	later := e.submit(alice, imageRequest("a lighthouse at dawn"))
	own := e.submit(bob, imageRequest("the owner's own request, asked last"))
	if as := pop("a pop of the owner's request"); len(as) != 1 || as[0].Job.RequestID != own.ID {
		t.Fatalf("popped %+v, want the owner's request %s before alice's %s", as, own.ID, later.ID)
	}
}
