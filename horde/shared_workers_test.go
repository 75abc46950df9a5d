package horde_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestSharedPopWritesOnlyItsNews: on the shared queue a pop saves its
// worker only when the other processes must learn something at once: new
// capabilities, or a speed first measured or across the slow line. A busy
// worker's ordinary pop is one transaction, its claim; saving the worker
// on every pop after a finish made every pop wait for a write of its own.
func TestSharedPopWritesOnlyItsNews(t *testing.T) {
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	owner := a.user("owner", 0)
	alice := a.user("alice", 1000)
	for i := range 4 {
		a.submit(alice, imageRequest("a lighthouse "+string(rune('a'+i)), "sd15"))
	}
	popCommits := func(p horde.PopRequest) (horde.Assignment, uint64) {
		t.Helper()
		before := a.st.Commits()
		as := a.popOne(owner, p)
		return as, a.st.Commits() - before
	}

	pop := imagePop("rig", "sd15")
	job := a.popOne(owner, pop) // created, announced, touched
	rig := job.Job.WorkerID     // read back through b.st: what another process reads
	a.clock.Advance(5 * time.Second)
	a.submitOK(owner, job.Job.ID) // 5.2 megapixel-steps in 5 s: its first speed, fast

	job, n := popCommits(pop)
	if w := storetest.StoredWorker(t, b.st, rig); w.Performance <= 0 {
		t.Errorf("after the pop that followed its first finish, the stored speed is %v: another process would not know it", w.Performance)
	}
	if n != 2 {
		t.Errorf("the pop after the first measure committed %d transactions, want 2 (its claim, the worker's speed)", n)
	}
	a.clock.Advance(5 * time.Second)
	a.submitOK(owner, job.Job.ID) // the same speed again

	job, n = popCommits(pop)
	if n != 1 {
		t.Errorf("an ordinary pop of a busy worker committed %d transactions, want 1 (its claim)", n)
	}
	a.submitOK(owner, job.Job.ID)

	more := imagePop("rig", "sd15", "sdxl")
	if _, n = popCommits(more); n != 2 {
		t.Errorf("a pop announcing new models committed %d transactions, want 2 (its claim, the capabilities)", n)
	}
	if w := storetest.StoredWorker(t, b.st, rig); !slices.Contains(w.Models, "sdxl") {
		t.Errorf("another process reads models %v after the pop that announced sdxl", w.Models)
	}
	if w := storetest.StoredWorker(t, b.st, rig); w.Fulfilled != 3 {
		t.Errorf("another process reads %d jobs fulfilled, want 3 (the store counts them as they finish)", w.Fulfilled)
	}
}
