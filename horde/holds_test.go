package horde_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// bigImage is a request that costs 92 kudos (1024x1024, 224 steps).
func bigImage(prompt string) horde.NewRequest {
	nr := imageRequest(prompt)
	nr.Image = &horde.ImageParams{Width: 1024, Height: 1024, Steps: 224}
	return nr
}

// TestFloorHoldsAcrossQueuedRequests is the attack of issue 9.1: a member
// at +10 queues several 92-kudos requests. Only what their balance covers
// down to the floor (-100) is accepted, the refusal says how many kudos are
// missing, and after every accepted job is served the member stands at or
// above their floor.
func TestFloorHoldsAcrossQueuedRequests(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 10)
	owner := e.user("mallory", 0)

	first := e.submit(alice, bigImage("a castle"))
	if first.Kudos != 92 {
		t.Fatalf("the request costs %d, want 92 (the test's premise)", first.Kudos)
	}
	_, _, err := e.h.Submit(e.ctx, alice.User, bigImage("another castle"))
	if !horde.IsKind(err, horde.KindKudosUpfront) {
		t.Fatalf("second 92-kudos request at +10 with 92 held: err %v, want KudosUpfront", err)
	}
	// 10 - 92 held - 92 = -174: 74 below the floor of -100.
	if msg := horde.MessageOf(err); !strings.Contains(msg, "missing 74") || !strings.Contains(msg, "92 are already held") {
		t.Errorf("refusal %q does not say how many kudos are missing and what is held", msg)
	}
	if items, held := e.h.Held(e.ctx, alice.User.ID); items != 1 || held != 92 {
		t.Errorf("held = %d items, %d kudos; want 1, 92", items, held)
	}

	a := e.popOne(owner, bigPop("mallory-gpu"))
	e.submitOK(owner, a.Job.ID)
	if got := e.balance(alice.User.ID); got != -82 {
		t.Errorf("alice's balance after her one job = %d, want -82", got)
	}
	if items, held := e.h.Held(e.ctx, alice.User.ID); items != 0 || held != 0 {
		t.Errorf("held after the job = %d items, %d kudos; want nothing", items, held)
	}
	if _, _, err := e.h.Submit(e.ctx, alice.User, bigImage("a third castle")); !horde.IsKind(err, horde.KindKudosUpfront) {
		t.Fatalf("a request at -82: err %v, want KudosUpfront", err)
	}
}

// bigPop is a worker that serves 1024x1024 images.
func bigPop(name string) horde.PopRequest {
	p := imagePop(name)
	p.MaxPixels = 1024 * 1024
	return p
}

// TestHoldsReleasedOnCancelAndRebuiltOnRestart: a cancelled request gives
// its hold back; a restart rebuilds the holds from the open requests.
func TestHoldsReleasedOnCancelAndRebuiltOnRestart(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	nr := imageRequest("a fox")
	nr.N = 4
	r := e.submit(alice, nr)
	if _, held := e.h.Held(e.ctx, alice.User.ID); held != r.Kudos {
		t.Fatalf("held %d, want the request's %d", held, r.Kudos)
	}
	e.restart()
	if items, held := e.h.Held(e.ctx, alice.User.ID); items != 4 || held != r.Kudos {
		t.Fatalf("after a restart held = %d items, %d kudos; want 4, %d", items, held, r.Kudos)
	}
	if _, _, err := e.h.Cancel(e.ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if items, held := e.h.Held(e.ctx, alice.User.ID); items != 0 || held != 0 {
		t.Fatalf("after cancel held = %d items, %d kudos; want nothing", items, held)
	}
}

// TestFinishNeverChargesPastTheFloor: when a member's balance fell below
// what their hold promised (a moderator took kudos away), a finished job
// charges only what is left above the floor and the worker earns that, so
// no kudos come from nothing.
func TestFinishNeverChargesPastTheFloor(t *testing.T) {
	e := newEnv(t, horde.Config{Payments: kudos.PaymentRules{MemberFloor: -100}})
	alice := e.user("alice", 0)
	owner := e.user("owner", 0)
	r := e.submit(alice, bigImage("a ship")) // 92 held
	e.give(alice.User.ID, -50)               // a moderator's adjustment: -50
	a := e.popOne(owner, bigPop("gpu"))
	reward := e.submitOK(owner, a.Job.ID)
	if got := e.balance(alice.User.ID); got != -100 {
		t.Errorf("alice's balance = %d, want the floor -100", got)
	}
	if reward != 50 {
		t.Errorf("reward = %d, want the 50 that could be charged", reward)
	}
	if got := e.balance(owner.User.ID); got != 50 {
		t.Errorf("owner's balance = %d, want 50", got)
	}
	if p := e.check(r.ID); !p.Done {
		t.Errorf("the request is not done: %+v", p)
	}
	if m, err := e.st.Verify(e.ctx); err != nil || len(m) != 0 {
		t.Fatalf("verify: %v %v", m, err)
	}
}

// TestConcurrencyCaps is issue 9.2: a member's open items are capped
// (TooManyPrompts, rate limited), the anonymous user's lower, and the cap
// frees as items finish.
func TestConcurrencyCaps(t *testing.T) {
	e := newEnv(t, horde.Config{Concurrency: 5, AnonymousConcurrency: 2})
	rich := e.user("rich", 1_000_000)
	owner := e.user("owner", 0)
	nr := imageRequest("a tree")
	nr.N = 5
	e.submit(rich, nr)
	nr.N = 1
	_, _, err := e.h.Submit(e.ctx, rich.User, nr)
	if !horde.IsKind(err, horde.KindRateLimited) || !strings.Contains(err.Error(), "at most 5") {
		t.Fatalf("the 6th item: err %v, want rate limited naming the cap", err)
	}
	var he *horde.Error
	if !errors.As(err, &he) || he.Code != "TooManyPrompts" {
		t.Fatalf("the 6th item's code: %v, want TooManyPrompts", err)
	}
	a := e.popOne(owner, imagePop("gpu"))
	e.submitOK(owner, a.Job.ID)
	e.submit(rich, nr) // one finished: one more fits

	anon, err := e.h.Authenticate(e.ctx, horde.AnonymousKey)
	if err != nil {
		t.Fatal(err)
	}
	nr.N = 2
	e.submit(anon, nr)
	nr.N = 1
	if _, _, err := e.h.Submit(e.ctx, anon.User, nr); !horde.IsKind(err, horde.KindRateLimited) {
		t.Fatalf("anonymous past its cap of 2: err %v, want rate limited", err)
	}
	if info, err := e.h.UserInfo(e.ctx, rich.User.ID); err != nil || info.Concurrency != 5 {
		t.Fatalf("user info concurrency = %d (%v), want 5", info.Concurrency, err)
	}
}

// TestModelBaselinePricesTheRequest: with a model reference, a request
// naming an SDXL model costs what the AI Horde charges for one (twice an
// SD 1.5 image), and a limit_max_steps worker uses the model's own steps.
func TestModelBaselinePricesTheRequest(t *testing.T) {
	ref, err := horde.ParseModelReference([]byte(`{
		"SDXL 1.0": {"name": "SDXL 1.0", "baseline": "stable_diffusion_xl", "requirements": {"min_steps": 10, "max_steps": 30}},
		"Deliberate": {"name": "Deliberate", "baseline": "stable diffusion 1"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, horde.Config{Models: ref, StepLimits: ref.StepLimits})
	alice := e.user("alice", 1000)
	price := func(model string) int64 {
		nr := imageRequest("a lighthouse", model)
		nr.DryRun = true
		r, _, err := e.h.Submit(e.ctx, alice.User, nr)
		if err != nil {
			t.Fatal(err)
		}
		return r.Kudos
	}
	sd1, sdxl := price("Deliberate"), price("SDXL 1.0")
	if sdxl < 2*sd1-2 || sdxl > 2*sd1+2 {
		t.Fatalf("SDXL costs %d and SD 1.5 %d: want about twice", sdxl, sd1)
	}
	if lo, hi, ok := ref.StepLimits("SDXL 1.0"); !ok || lo != 10 || hi != 30 {
		t.Fatalf("step limits %d..%d (%v), want 10..30", lo, hi, ok)
	}
}
