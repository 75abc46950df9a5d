package horde_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

func asError(err error, target **horde.Error) bool { return errors.As(err, target) }

// TestWorkerManagement checks registration, unique names and the permission
// rules of update and delete.
func TestWorkerManagement(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	stranger := e.user("stranger", 0)
	mod := e.user("mod", 0)
	mod.User.Moderator = true
	anon, _ := e.h.Authenticate(e.ctx, horde.AnonymousKey)

	w, _, err := e.h.RegisterWorker(e.ctx, owner.User, "rig-one", horde.KindImage)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.h.RegisterWorker(e.ctx, stranger.User, "rig-one", horde.KindImage); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, _, err := e.h.RegisterWorker(e.ctx, anon.User, "anon-rig", horde.KindImage); !horde.IsKind(err, horde.KindForbidden) {
		t.Fatalf("anonymous registration: %v", err)
	}
	if _, _, err := e.h.RegisterWorker(e.ctx, owner.User, "rig-two", horde.KindText); err != nil {
		t.Fatal(err)
	}

	yes := true
	name := "rig-renamed"
	taken := "rig-two"
	info := "a 3090 in a cupboard"
	tests := []struct {
		name string
		by   horde.User
		u    horde.WorkerUpdate
		kind horde.Kind // KindInternal for success
	}{
		{"stranger sets maintenance", stranger.User, horde.WorkerUpdate{Maintenance: &yes}, horde.KindForbidden},
		{"owner pauses", owner.User, horde.WorkerUpdate{Paused: &yes}, horde.KindForbidden},
		{"owner renames to a taken name", owner.User, horde.WorkerUpdate{Name: &taken}, horde.KindConflict},
		{"owner renames and sets info", owner.User, horde.WorkerUpdate{Name: &name, Info: &info}, horde.KindInternal},
		{"moderator pauses", mod.User, horde.WorkerUpdate{Paused: &yes}, horde.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.h.UpdateWorker(e.ctx, tt.by, w.ID, tt.u)
			if tt.kind == horde.KindInternal {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !horde.IsKind(err, tt.kind) {
				t.Fatalf("err %v, want %v", err, tt.kind)
			}
		})
	}
	e.restart()
	got, err := e.h.WorkerByName(e.ctx, "rig-renamed")
	if err != nil || got.ID != w.ID || got.Info != info || !got.Paused {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	if _, err := e.h.WorkerByName(e.ctx, "rig-one"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("old name still resolves: %v", err)
	}
	all, _ := e.h.Workers(e.ctx, "")
	images, _ := e.h.Workers(e.ctx, horde.KindImage)
	if len(all) != 2 || len(images) != 1 {
		t.Fatalf("workers: %d all, %d image", len(all), len(images))
	}

	if err := e.h.DeleteWorker(e.ctx, stranger.User, w.ID); !horde.IsKind(err, horde.KindForbidden) {
		t.Fatalf("stranger deleted: %v", err)
	}
	if err := e.h.DeleteWorker(e.ctx, mod.User, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Worker(e.ctx, w.ID); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("deleted worker found: %v", err)
	}
	e.restart()
	if _, err := e.h.Worker(e.ctx, w.ID); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("deleted worker back after restart: %v", err)
	}
}

// TestDeleteWorkerRequeues checks that deleting a worker re-queues its jobs.
func TestDeleteWorkerRequeues(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	alice := e.user("alice", 100)
	req := e.submit(alice, imageRequest("a kite", "sd15"))
	a := e.popOne(owner, imagePop("doomed", "sd15"))
	if err := e.h.DeleteWorker(e.ctx, owner.User, a.Job.WorkerID); err != nil {
		t.Fatal(err)
	}
	if p := e.check(req.ID); p.Waiting != 1 || p.Processing != 0 {
		t.Fatalf("after delete: %+v", p)
	}
	if b := e.popOne(owner, imagePop("survivor", "sd15")); b.Request.ID != req.ID {
		t.Fatalf("re-queued item not served")
	}
}

// TestWorkerLimits: as on the AI Horde, an untrusted owner has at most 3
// workers and a trusted one 20 (both configurable); the next one, whether
// by /worker register or by a pop under a new name, is refused with
// TooManyWorkers. Today's attack created 20 workers by pop with one key.
func TestWorkerLimits(t *testing.T) {
	register := func(e *env, c horde.Credential, name string) error {
		_, _, err := e.h.RegisterWorker(e.ctx, c.User, name, horde.KindImage)
		return err
	}
	pop := func(e *env, c horde.Credential, name string) error {
		_, _, err := e.h.Pop(e.ctx, c, imagePop(name, "sd15"))
		return err
	}
	tests := []struct {
		name    string
		cfg     horde.TrustConfig
		trusted bool
		create  []func(*env, horde.Credential, string) error // the allowed ones, in order
		next    func(*env, horde.Credential, string) error
	}{
		{name: "the 4th worker of an untrusted owner by pop is refused", create: repeat(pop, 3), next: pop},
		{name: "the 4th worker of an untrusted owner by register is refused", create: repeat(register, 3), next: register},
		{name: "registered and popped workers count together", create: []func(*env, horde.Credential, string) error{register, pop, register}, next: pop},
		{name: "a trusted owner may have 20", trusted: true, create: repeat(pop, 20), next: register},
		{name: "the limits are configurable", cfg: horde.TrustConfig{MaxWorkersUntrusted: 1}, create: repeat(register, 1), next: pop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, horde.Config{Trust: tt.cfg})
			owner := e.user("owner", 0)
			if tt.trusted {
				owner = e.trustedUser("trusted-owner", 0)
			}
			other := e.user("other", 0)
			for i, create := range tt.create {
				if err := create(e, owner, fmt.Sprintf("rig-%02d", i)); err != nil {
					t.Fatalf("worker %d: %v", i+1, err)
				}
			}
			err := tt.next(e, owner, "one-too-many")
			var he *horde.Error
			if !asError(err, &he) || he.Kind != horde.KindForbidden || he.Code != "TooManyWorkers" {
				t.Fatalf("worker %d: err %v, want KindForbidden TooManyWorkers", len(tt.create)+1, err)
			}
			if _, err := e.h.WorkerByName(e.ctx, "one-too-many"); !horde.IsKind(err, horde.KindNotFound) {
				t.Fatalf("the refused worker exists: %v", err)
			}
			// The existing workers still pop; another owner is not limited by this one.
			if err := pop(e, owner, "rig-00"); err != nil {
				t.Fatalf("existing worker pop: %v", err)
			}
			if err := pop(e, other, "other-rig"); err != nil {
				t.Fatalf("another owner's worker: %v", err)
			}
			// Deleting a worker frees its place.
			w, err := e.h.WorkerByName(e.ctx, "rig-00")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.h.DeleteWorker(e.ctx, owner.User, w.ID); err != nil {
				t.Fatal(err)
			}
			if err := tt.next(e, owner, "one-too-many"); err != nil {
				t.Fatalf("after deleting one: %v", err)
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}
