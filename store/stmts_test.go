package store_test

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
)

// TestHotWritesRunPreparedStatements: the writes every request and every
// job make (the writer is one goroutine, the lifecycle's bottleneck) run
// only prepared statements; one parsed on every call costs the writer more
// than the statement itself (measured: a worker's counters, unprepared,
// were a quarter of FinishJob).
func TestHotWritesRunPreparedStatements(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	requester := mustUser(t, s, "requester")
	mustWorker(t, s, "w", owner.ID)
	if _, err := s.Apply(ctx, kudos.Entry{UserID: requester.ID, Delta: 1000, Kind: kudos.KindAdmin, Key: "grant", Floor: kudos.NoFloor}); err != nil {
		t.Fatal(err)
	}
	ref := "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	steps := []struct {
		name string
		run  func() error
	}{
		{"create a request", func() error { return s.CreateRequest(ctx, imageRequest("r", requester.ID, 2)) }},
		{"start a job", func() error { return s.StartJob(ctx, job("j1", "r", 0, "w")) }},
		{"fail a job", func() error { return s.FailJob(ctx, "j1", horde.JobFaulted, job("j1", "r", 0, "w").StartedAt) }},
		{"start it again", func() error { return s.StartJob(ctx, job("j2", "r", 0, "w")) }},
		{"finish a job, paid, part held, the request still open", func() error {
			f := finish(job("j2", "r", 0, "w"), horde.RequestProcessing, owner.ID, requester.ID, 10)
			f.Generation.BlobRef = ref
			f.Entries[1].Floor = 0
			f.Holds = []kudos.Hold{{UserID: owner.ID, Amount: 3, Ref: "j2", Key: "escrow:j2"}}
			f.Kind, f.Units = horde.KindImage, 64*64*10
			return s.FinishJob(ctx, f)
		}},
		{"finish the last job, the request done", func() error {
			j := job("j3", "r", 1, "w")
			if err := s.StartJob(ctx, j); err != nil {
				return err
			}
			f := finish(j, horde.RequestDone, owner.ID, requester.ID, 10)
			f.Kind, f.Units = horde.KindImage, 64*64*10
			return s.FinishJob(ctx, f)
		}},
	}
	for _, step := range steps {
		before := store.UnpreparedWrites(s)
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if n := store.UnpreparedWrites(s) - before; n != 0 {
			t.Errorf("%s ran %d unprepared statements on the writer, want 0 (add them to writeQueries in stmts.go)", step.name, n)
		}
	}
}
