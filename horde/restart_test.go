package horde_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// TestRestartKeepsWork closes the store mid-way and builds a new horde from
// the same files: waiting and processing work, seeds, priorities and the
// done items all survive, and the old job can still be submitted.
func TestRestartKeepsWork(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 500)
	bob := e.user("bob", 0)
	worker := e.user("worker", 0)

	nr := imageRequest("four seasons", "sd15")
	nr.N = 4
	nr.Image.Seed = "a seed that is not a number"
	four := e.submit(alice, nr)
	low := e.submit(bob, imageRequest("low priority", "sd15"))

	p := imagePop("rig", "sd15")
	p.Amount = 2
	first, _ := e.pop(worker, p) // items 0 and 1
	if len(first) != 2 {
		t.Fatalf("got %d jobs, want 2", len(first))
	}
	e.submitOK(worker, first[0].Job.ID) // item 0 done, item 1 processing

	e.restart()

	prog := e.check(four.ID)
	if prog.Finished != 1 || prog.Processing != 1 || prog.Waiting != 2 || prog.Done {
		t.Fatalf("after restart: finished %d processing %d waiting %d done %v", prog.Finished, prog.Processing, prog.Waiting, prog.Done)
	}
	if prog := e.check(low.ID); prog.Waiting != 1 {
		t.Fatalf("low request after restart: %+v", prog)
	}
	// The job popped before the restart can be submitted after it.
	e.submitOK(worker, first[1].Job.ID)

	// Remaining items come in item order, with the seeds the request had,
	// and still before the lower-priority request.
	rest, _ := e.pop(worker, p)
	if len(rest) != 2 {
		t.Fatalf("got %d jobs after restart, want 2", len(rest))
	}
	for i, a := range rest {
		if a.Request.ID != four.ID || a.Job.Item != i+2 || a.Job.Seed != first[0].Job.Seed+int64(i+2) {
			t.Fatalf("job %d after restart: request %s item %d seed %d (base %d)", i, a.Request.ID, a.Job.Item, a.Job.Seed, first[0].Job.Seed)
		}
	}
	// A processing job whose deadline passed during the downtime is aborted.
	e.restart()
	e.clock.Advance(rest[0].TTL + time.Second)
	sweep(t, e)
	if prog := e.check(four.ID); prog.Waiting != 2 || prog.Finished != 2 {
		t.Fatalf("after the TTL across a restart: %+v", prog)
	}
}
