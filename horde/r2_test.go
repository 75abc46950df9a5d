package horde_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// errFakeImage is what the test's image check says of bytes that are not "real".
var errFakeImage = errors.New("not real")

// realOnly is an image check that accepts the bytes "real" only.
func realOnly(data []byte, _, _ int, _ bool) error {
	if string(data) != "real" {
		return errFakeImage
	}
	return nil
}

// TestR2SubmitBeforeUploadSettlesWhenTheBytesArrive: a submit of "R2" before
// the upload answers the reward to come and moves nothing; it survives a
// restart; a second submit is a conflict; an upload that is not a real image
// is refused and settles nothing; the real upload settles the job.
func TestR2SubmitBeforeUploadSettlesWhenTheBytesArrive(t *testing.T) {
	e := newEnv(t, horde.Config{CheckImage: realOnly})
	alice := e.user("alice", 100)
	owner := e.user("owner", 0)
	r := e.submit(alice, imageRequest("a harbour"))
	a := e.popOne(owner, imagePop("gpu"))
	seven := int64(7)

	reward, err := e.h.SubmitResult(e.ctx, owner, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Seed: &seven, UseUpload: true})
	if err != nil || reward != r.Kudos {
		t.Fatalf("R2 submit before the upload: reward %d err %v, want the reward to come (%d)", reward, err, r.Kudos)
	}
	if e.balance(owner.User.ID) != 0 || e.balance(alice.User.ID) != 100 {
		t.Fatalf("kudos moved before the bytes: owner %d alice %d", e.balance(owner.User.ID), e.balance(alice.User.ID))
	}
	e.restart()
	if _, err := e.h.SubmitResult(e.ctx, owner, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, UseUpload: true}); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("second submit while waiting for the upload: %v, want a conflict", err)
	}
	if err := e.h.Upload(e.ctx, a.Job.ID, []byte("fake")); !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("an upload that is not a real image: %v, want invalid", err)
	}
	if e.balance(owner.User.ID) != 0 {
		t.Fatal("a fake upload paid")
	}
	if err := e.h.Upload(e.ctx, a.Job.ID, []byte("real")); err != nil {
		t.Fatalf("the real upload: %v", err)
	}
	if got := e.balance(owner.User.ID); got != r.Kudos {
		t.Errorf("owner earned %d, want %d", got, r.Kudos)
	}
	p, gens, err := e.h.Status(e.ctx, r.ID)
	if err != nil || !p.Done || len(gens) != 1 || gens[0].Seed != 7 || gens[0].BlobRef == "" {
		t.Fatalf("status after the upload: %+v %+v %v", p, gens, err)
	}
}

// TestR2SubmitWithoutUploadFaultsAtTheDeadline: bytes that never arrive
// fault the item (it waits again) and move no kudos.
func TestR2SubmitWithoutUploadFaultsAtTheDeadline(t *testing.T) {
	e := newEnv(t, horde.Config{CheckImage: realOnly})
	alice := e.user("alice", 100)
	owner := e.user("owner", 0)
	r := e.submit(alice, imageRequest("a lighthouse"))
	a := e.popOne(owner, imagePop("gpu"))
	if _, err := e.h.SubmitResult(e.ctx, owner, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, UseUpload: true}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(a.TTL + time.Second)
	if err := e.h.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	j, err := e.st.Job(e.ctx, a.Job.ID)
	if err != nil || j.State != horde.JobFaulted {
		t.Fatalf("job after its deadline: %+v %v, want faulted", j, err)
	}
	if p := e.check(r.ID); p.Waiting != 1 || p.Done {
		t.Fatalf("the item does not wait again: %+v", p)
	}
	if e.balance(owner.User.ID) != 0 || e.balance(alice.User.ID) != 100 {
		t.Fatalf("kudos moved: owner %d alice %d", e.balance(owner.User.ID), e.balance(alice.User.ID))
	}
	if err := e.h.Upload(e.ctx, a.Job.ID, []byte("real")); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("an upload after the deadline: %v, want a conflict", err)
	}
}
