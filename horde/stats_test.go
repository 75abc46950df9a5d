package horde_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// TestStatsCountLifecycle walks requests and jobs through every ending and
// checks that Stats counts each once, by kind.
func TestStatsCountLifecycle(t *testing.T) {
	e := newEnv(t, horde.Config{DropsForMaintenance: 100})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)
	if got := e.h.Stats(); got != (horde.Stats{}) {
		t.Fatalf("a new horde: %+v, want zero", got)
	}

	// A dry run and a refused request are not submissions.
	dry := imageRequest("just a price", "sd15")
	dry.DryRun = true
	e.submit(alice, dry)
	broke := e.user("broke", 0)
	costly := imageRequest("too dear", "sd15")
	costly.N, costly.Image.Steps = 10, 150
	if _, _, err := e.h.Submit(e.ctx, broke.User, costly); !horde.IsKind(err, horde.KindKudosUpfront) {
		t.Fatalf("submit beyond the floor: err %v, want KindKudosUpfront", err)
	}

	// Done: one request, one job, rewarded and charged.
	done := e.submit(alice, imageRequest("done", "sd15"))
	a := e.popOne(worker, imagePop("rig", "sd15"))
	reward := e.submitOK(worker, a.Job.ID)
	if reward <= 0 || done.Kudos <= 0 {
		t.Fatalf("reward %d, cost %d: want both positive", reward, done.Kudos)
	}

	// Faulted, then aborted past its TTL, then cancelled.
	cancelled := e.submit(alice, imageRequest("cancelled", "sd15"))
	b := e.popOne(worker, imagePop("rig", "sd15"))
	if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: b.Job.ID, State: horde.ResultFaulted}); err != nil {
		t.Fatalf("faulted submit: %v", err)
	}
	c := e.popOne(worker, imagePop("rig", "sd15"))
	e.clock.Advance(c.TTL + time.Second)
	sweep(t, e)
	if _, _, err := e.h.Cancel(e.ctx, cancelled.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}

	// A text request nobody serves expires: faulted.
	e.submit(alice, textRequest("nobody writes this", 80, 1024))
	e.clock.Advance(horde.ExpireAfter + time.Second)
	sweep(t, e)

	want := horde.Stats{
		Image: horde.KindStats{
			RequestsSubmitted: 2, RequestsDone: 1, RequestsCancelled: 1,
			JobsPopped: 3, JobsDone: 1, JobsFaulted: 1, JobsAborted: 1,
			KudosRewarded: reward, KudosCharged: done.Kudos,
		},
		Text: horde.KindStats{RequestsSubmitted: 1, RequestsFaulted: 1},
	}
	if got := e.h.Stats(); got != want {
		t.Fatalf("stats:\n got %+v\nwant %+v", got, want)
	}
}
