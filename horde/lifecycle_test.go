package horde_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/kudos"
)

func sweep(t *testing.T, e *env) {
	t.Helper()
	if err := e.h.Sweep(e.ctx); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

// TestTTLAbortRequeues checks that a job past its TTL is aborted, its item
// waits again, the worker counts a drop, and its late submit is refused.
func TestTTLAbortRequeues(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	slow := e.user("slow", 0)
	fast := e.user("fast", 0)
	req := e.submit(alice, imageRequest("a bridge", "sd15"))
	a := e.popOne(slow, imagePop("slow-rig", "sd15"))

	e.clock.Advance(a.TTL - time.Second)
	sweep(t, e)
	if p := e.check(req.ID); p.Processing != 1 || p.Waiting != 0 {
		t.Fatalf("before the deadline: %+v", p)
	}
	e.clock.Advance(2 * time.Second)
	sweep(t, e)
	if p := e.check(req.ID); p.Processing != 0 || p.Waiting != 1 || p.Restarted != 1 || p.Done {
		t.Fatalf("after the deadline: processing %d waiting %d restarted %d done %v", p.Processing, p.Waiting, p.Restarted, p.Done)
	}
	w, err := e.h.WorkerByName(e.ctx, "slow-rig")
	if err != nil || w.Dropped != 1 {
		t.Fatalf("slow worker dropped %d (err %v), want 1", w.Dropped, err)
	}
	b := e.popOne(fast, imagePop("fast-rig", "sd15"))
	if b.Request.ID != req.ID || b.Job.Item != a.Job.Item || b.Job.ID == a.Job.ID {
		t.Fatalf("re-queued item: got request %s item %d job %s", b.Request.ID, b.Job.Item, b.Job.ID)
	}
	if _, err := e.h.SubmitResult(e.ctx, slow, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: []byte("late")}); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("late submit of an aborted job: err %v, want KindConflict", err)
	}
	e.submitOK(fast, b.Job.ID)
	if p := e.check(req.ID); !p.Done || p.Finished != 1 {
		t.Fatalf("after the fast worker: %+v", p)
	}
}

// TestFaultsEndRequest checks that faulted submits re-queue until the request
// has more than MaxFaults faults, and then it is faulted.
func TestFaultsEndRequest(t *testing.T) {
	e := newEnv(t, horde.Config{DropsForMaintenance: 100})
	alice := e.user("alice", 100)
	worker := e.user("worker", 0)
	req := e.submit(alice, imageRequest("a storm", "sd15"))
	for i := 1; i <= horde.MaxFaults+1; i++ {
		a := e.popOne(worker, imagePop("rig", "sd15"))
		reward, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: a.Job.ID, State: horde.ResultFaulted})
		if err != nil || reward != 0 {
			t.Fatalf("fault %d: reward %d err %v", i, reward, err)
		}
		p := e.check(req.ID)
		if i <= horde.MaxFaults {
			if p.Done || p.Waiting != 1 || p.Restarted != i {
				t.Fatalf("after fault %d: done %v waiting %d restarted %d", i, p.Done, p.Waiting, p.Restarted)
			}
			continue
		}
		if !p.Done || !p.Faulted || p.Request.State != horde.RequestFaulted {
			t.Fatalf("after fault %d: done %v faulted %v state %s", i, p.Done, p.Faulted, p.Request.State)
		}
	}
	if as, _ := e.pop(worker, imagePop("rig", "sd15")); len(as) != 0 {
		t.Fatalf("a faulted request was popped")
	}
	if got := e.balance(alice.User.ID); got != 100 {
		t.Fatalf("requester paid for faulted jobs: balance %d", got)
	}
}

// TestExpiry checks that a request nobody pops for ExpireAfter is faulted
// as expired, and one popped in time is not.
func TestExpiry(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	worker := e.user("worker", 0)
	lonely := e.submit(alice, imageRequest("nobody serves this", "rare-model"))
	served := e.submit(alice, imageRequest("served", "sd15"))

	e.clock.Advance(horde.ExpireAfter - time.Minute)
	a := e.popOne(worker, imagePop("rig", "sd15"))
	sweep(t, e)
	if p := e.check(lonely.ID); p.Done {
		t.Fatalf("expired a minute early")
	}
	e.clock.Advance(time.Minute + time.Second)
	sweep(t, e)
	p := e.check(lonely.ID)
	if !p.Done || !p.Faulted || p.Request.Reason != "expired" {
		t.Fatalf("not expired: done %v faulted %v reason %q", p.Done, p.Faulted, p.Request.Reason)
	}
	// The served request is processing: its TTL, not expiry, applies.
	if p := e.check(served.ID); p.Done || p.Processing != 1 {
		t.Fatalf("processing request touched by expiry: %+v", p)
	}
	e.submitOK(worker, a.Job.ID)
}

// TestStaleWorker checks that a worker is offline StaleAfter after its last
// pop: it stops counting for models and is_possible.
func TestStaleWorker(t *testing.T) {
	e := newEnv(t, horde.Config{})
	worker := e.user("worker", 0)
	alice := e.user("alice", 100)
	e.pop(worker, imagePop("rig", "sd15"))
	models, err := e.h.Models(e.ctx, horde.KindImage)
	if err != nil || len(models) != 1 || models[0].Name != "sd15" || models[0].Workers != 1 {
		t.Fatalf("online: models %+v err %v", models, err)
	}
	nsfw := imageRequest("nsfw thing", "sd15")
	nsfw.NSFW = true
	req := e.submit(alice, nsfw)
	if p := e.check(req.ID); p.IsPossible {
		t.Fatalf("an nsfw request is possible with only a sfw worker online")
	}
	plain := e.submit(alice, imageRequest("a plain thing", "sd15"))
	if p := e.check(plain.ID); !p.IsPossible {
		t.Fatalf("a request the online worker can serve is not possible")
	}

	e.clock.Advance(horde.StaleAfter)
	sweep(t, e)
	w, err := e.h.WorkerByName(e.ctx, "rig")
	if err != nil || w.Online(e.clock.Now()) {
		t.Fatalf("worker still online after StaleAfter (err %v)", err)
	}
	models, err = e.h.Models(e.ctx, horde.KindImage)
	if err != nil || len(models) != 1 || models[0].Workers != 0 || models[0].Jobs != 2 {
		t.Fatalf("stale: models %+v err %v", models, err)
	}
	e.clock.Advance(11 * time.Second) // past the is_possible cache
	if p := e.check(plain.ID); p.IsPossible {
		t.Fatalf("with no worker online a request is possible (the AI Horde: no valid worker)")
	}
}

// TestMaintenanceAfterDrops checks that a worker dropping
// DropsForMaintenance jobs in a row goes into maintenance.
func TestMaintenanceAfterDrops(t *testing.T) {
	e := newEnv(t, horde.Config{DropsForMaintenance: 3})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)
	for i := 0; i < 4; i++ {
		e.submit(alice, imageRequest("a mountain", "sd15"))
	}
	// One success resets the streak; then three drops: two faults, one TTL abort.
	e.submitOK(worker, e.popOne(worker, imagePop("rig", "sd15")).Job.ID)
	for i := 0; i < 2; i++ {
		a := e.popOne(worker, imagePop("rig", "sd15"))
		if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: a.Job.ID, State: horde.ResultFaulted}); err != nil {
			t.Fatal(err)
		}
		if w, _ := e.h.WorkerByName(e.ctx, "rig"); w.Maintenance {
			t.Fatalf("maintenance after %d drops", i+1)
		}
	}
	a := e.popOne(worker, imagePop("rig", "sd15"))
	e.clock.Advance(a.TTL + time.Second)
	sweep(t, e)
	w, err := e.h.WorkerByName(e.ctx, "rig")
	if err != nil || !w.Maintenance || w.Dropped != 3 || w.Fulfilled != 1 {
		t.Fatalf("after 3 drops: maintenance %v dropped %d fulfilled %d err %v", w.Maintenance, w.Dropped, w.Fulfilled, err)
	}
	if as, _ := e.pop(worker, imagePop("rig", "sd15")); len(as) != 0 {
		t.Fatalf("a worker in maintenance served a stranger")
	}
	// Maintenance is stored: it survives a restart.
	e.restart()
	if w, _ := e.h.WorkerByName(e.ctx, "rig"); !w.Maintenance {
		t.Fatalf("maintenance lost on restart")
	}
}

// TestSubmitPaysOnce checks the ledger entries of a finished job and that a
// second submit is KindConflict and pays nothing.
func TestSubmitPaysOnce(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	worker := e.user("worker", 0)
	req := e.submit(alice, imageRequest("a harbour", "sd15"))
	cost := kudos.ImageCost(kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: aihorde.DefaultSampler}, 1)
	if req.Kudos != cost {
		t.Fatalf("request kudos %d, want %d", req.Kudos, cost)
	}
	a := e.popOne(worker, imagePop("rig", "sd15"))
	if reward := e.submitOK(worker, a.Job.ID); reward != cost {
		t.Fatalf("reward %d, want %d", reward, cost)
	}
	if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: []byte("again")}); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("second submit: err %v, want KindConflict", err)
	}
	if got := e.balance(worker.User.ID); got != cost {
		t.Fatalf("worker owner balance %d, want %d", got, cost)
	}
	if got := e.balance(alice.User.ID); got != 100-cost {
		t.Fatalf("requester balance %d, want %d", got, 100-cost)
	}
	p, gens, err := e.h.Status(e.ctx, req.ID)
	if err != nil || !p.Done || p.Finished != 1 || p.Kudos != cost || len(gens) != 1 || gens[0].WorkerName != "rig" || gens[0].BlobRef == "" {
		t.Fatalf("status: %+v gens %+v err %v", p, gens, err)
	}
	img, err := e.h.Blob(e.ctx, gens[0].BlobRef)
	if err != nil || !bytes.Equal(img, []byte("RIFF....WEBPfake")) {
		t.Fatalf("blob: %q err %v", img, err)
	}
	if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: "no-such-job", State: horde.ResultOK}); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("unknown job: err %v, want KindNotFound", err)
	}
}

// TestSubmitRules checks who may submit, uploads, paused workers and bad input.
func TestSubmitRules(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	worker := e.user("worker", 0)
	other := e.user("other", 0)
	e.submit(alice, imageRequest("one", "sd15"))
	e.submit(alice, imageRequest("two", "sd15"))
	a := e.popOne(worker, imagePop("rig", "sd15"))

	tests := []struct {
		name string
		c    horde.Credential
		s    horde.Submission
		kind horde.Kind
	}{
		{"another user's job", other, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: []byte("x")}, horde.KindForbidden},
		{"unknown state", worker, horde.Submission{JobID: a.Job.ID, State: "great"}, horde.KindInvalid},
		{"no image", worker, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK}, horde.KindInvalid},
		{"no id", worker, horde.Submission{State: horde.ResultOK}, horde.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.h.SubmitResult(e.ctx, tt.c, tt.s); !horde.IsKind(err, tt.kind) {
				t.Fatalf("err %v, want %v", err, tt.kind)
			}
		})
	}

	// An upload, then a submit of "R2".
	if err := e.h.Upload(e.ctx, a.Job.ID, []byte("uploaded image")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, UseUpload: true}); err != nil {
		t.Fatal(err)
	}
	_, gens, err := e.h.Status(e.ctx, a.Request.ID)
	if err != nil || len(gens) != 1 {
		t.Fatalf("status: %v", err)
	}
	if img, err := e.h.Blob(e.ctx, gens[0].BlobRef); err != nil || string(img) != "uploaded image" {
		t.Fatalf("uploaded blob %q err %v", img, err)
	}
	if err := e.h.Upload(e.ctx, a.Job.ID, []byte("late")); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("upload to a finished job: err %v, want KindConflict", err)
	}

	// A paused worker's owner earns nothing; the requester still pays.
	mod := e.user("mod", 0)
	mod.User.Moderator = true
	b := e.popOne(worker, imagePop("rig", "sd15"))
	paused := true
	w, _ := e.h.WorkerByName(e.ctx, "rig")
	if _, err := e.h.UpdateWorker(e.ctx, mod.User, w.ID, horde.WorkerUpdate{Paused: &paused}); err != nil {
		t.Fatal(err)
	}
	before := e.balance(worker.User.ID)
	if reward := e.submitOK(worker, b.Job.ID); reward != 0 || e.balance(worker.User.ID) != before {
		t.Fatalf("paused worker earned %d", reward)
	}
}

// TestCancel checks that cancelling keeps what is done, stops the rest and
// refuses the cancelled job's submit.
func TestCancel(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	worker := e.user("worker", 0)
	nr := imageRequest("three cats", "sd15")
	nr.N = 3
	req := e.submit(alice, nr)
	p := imagePop("rig", "sd15")
	p.Amount = 2
	as, _ := e.pop(worker, p)
	e.submitOK(worker, as[0].Job.ID)

	prog, gens, err := e.h.Cancel(e.ctx, req.ID)
	if err != nil || !prog.Done || prog.Request.State != horde.RequestCancelled || prog.Finished != 1 || len(gens) != 1 {
		t.Fatalf("cancel: %+v gens %d err %v", prog, len(gens), err)
	}
	if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: as[1].Job.ID, State: horde.ResultOK, Image: []byte("x")}); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("submit of a cancelled job: err %v, want KindConflict", err)
	}
	if left, _ := e.pop(worker, imagePop("rig", "sd15")); len(left) != 0 {
		t.Fatalf("a cancelled request was popped")
	}
	if _, _, err := e.h.Cancel(e.ctx, req.ID); err != nil {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := e.h.Check(e.ctx, "no-such-request"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("unknown request: err %v, want KindNotFound", err)
	}
}

// TestUptimeBonus checks that 10 online minutes, with a job finished in
// them, pay UptimeBonus once.
func TestUptimeBonus(t *testing.T) {
	e := newEnv(t, horde.Config{Payments: kudos.PaymentRules{UptimeBonus: 7}})
	worker := e.user("worker", 0)
	for i := 0; i <= 10; i++ {
		if i == 5 {
			e.submit(worker, imageRequest("a lighthouse", "sd15")) // its own request: no reward moves
			e.submitOK(worker, e.popOne(worker, imagePop("rig", "sd15")).Job.ID)
		} else {
			e.pop(worker, imagePop("rig", "sd15"))
		}
		if i < 10 {
			e.clock.Advance(time.Minute)
		}
	}
	sweep(t, e)
	sweep(t, e)
	if got := e.balance(worker.User.ID); got != 7 {
		t.Fatalf("after 10 online minutes: balance %d, want 7", got)
	}
	// Offline time does not count.
	e.clock.Advance(time.Hour)
	e.pop(worker, imagePop("rig", "sd15"))
	sweep(t, e)
	if got := e.balance(worker.User.ID); got != 7 {
		t.Fatalf("after an offline hour: balance %d, want 7", got)
	}
}

// TestRunStopsWithContext checks that Run returns nil when its context ends
// and saves the workers' unsaved state on the way out.
func TestRunStopsWithContext(t *testing.T) {
	e := newEnv(t, horde.Config{SweepInterval: time.Hour})
	worker := e.user("worker", 0)
	p := imagePop("rig", "sd15")
	p.Blacklist = []string{"clowns"}
	e.pop(worker, p) // capabilities changed in memory only
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.h.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	ws, err := e.st.Workers(e.ctx)
	if err != nil || len(ws) != 1 || len(ws[0].Blacklist) != 1 || ws[0].Blacklist[0] != "clowns" {
		t.Fatalf("stored workers %+v err %v", ws, err)
	}
}
