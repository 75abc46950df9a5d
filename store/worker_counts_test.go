package store_test

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestWorkerCountersAreIncrements: a finished job counts for its worker in
// the transaction that stores it, a failed one too, and a SaveWorker of an
// older copy (another process's, which did not see those jobs) lowers
// nothing.
func TestWorkerCountersAreIncrements(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	alice := mustUser(t, s, "alice")
	w := mustWorker(t, s, "w1", owner.ID)
	mustRequest(t, s, "r1", alice.ID, 3)

	j := mustStart(t, s, "j1", "r1", 0, w.ID)
	if err := s.FinishJob(ctx, finish(j, horde.RequestProcessing, owner.ID, alice.ID, 12)); err != nil {
		t.Fatal(err)
	}
	j2 := mustStart(t, s, "j2", "r1", 1, w.ID)
	if err := s.FinishJob(ctx, finish(j2, horde.RequestProcessing, owner.ID, alice.ID, 8)); err != nil {
		t.Fatal(err)
	}
	mustStart(t, s, "j3", "r1", 2, w.ID)
	if err := s.FailJob(ctx, "j3", horde.JobAborted, j.StartedAt); err != nil {
		t.Fatal(err)
	}
	got := storetest.StoredWorker(t, s, w.ID)
	if got.Fulfilled != 2 || got.KudosEarned != 20 || got.Dropped != 1 {
		t.Fatalf("after 2 jobs done (12 + 8 kudos) and 1 aborted: fulfilled %d kudos %d dropped %d", got.Fulfilled, got.KudosEarned, got.Dropped)
	}

	stale := w // a copy saved before any of those jobs, with a new setting
	stale.Threads, stale.UptimeSeconds = 4, 0
	if err := s.SaveWorker(ctx, stale); err != nil {
		t.Fatal(err)
	}
	got = storetest.StoredWorker(t, s, w.ID)
	if got.Threads != 4 || got.Fulfilled != 2 || got.KudosEarned != 20 || got.Dropped != 1 {
		t.Fatalf("after saving an older copy: threads %d fulfilled %d kudos %d dropped %d, want the setting saved and the counters kept",
			got.Threads, got.Fulfilled, got.KudosEarned, got.Dropped)
	}
}
