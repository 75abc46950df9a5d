package horde_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestPopStepAndSpeedRules checks the AI Horde's limit_max_steps (steps as
// its get_accurate_steps counts them, against the average of the model's
// limits: 30 for a model the horde has no reference for),
// extra_slow_worker and slow_workers, each with its skipped key.
func TestPopStepAndSpeedRules(t *testing.T) {
	limits := func(model string) (int, int, bool) {
		if model == "sdxl" {
			return 20, 60, true
		}
		return 0, 0, false
	}
	image := func(steps int, sampler string, models ...string) horde.NewRequest {
		r := imageRequest("a lighthouse", models...)
		r.Image.Steps, r.Image.SamplerName = steps, sampler
		return r
	}
	limited := func(models ...string) horde.PopRequest {
		p := imagePop("rig", models...)
		p.LimitMaxSteps = true
		return p
	}
	tests := []struct {
		name    string
		pop     horde.PopRequest
		req     horde.NewRequest
		skipped string // "" when the worker takes the request
	}{
		{"30 steps is the default limit", limited("sd15"), image(30, "k_euler", "sd15"), ""},
		{"31 steps is over it", limited("sd15"), image(31, "k_euler", "sd15"), horde.SkipStepCount},
		{"without limit_max_steps any steps", imagePop("rig", "sd15"), image(100, "k_euler", "sd15"), ""},
		{"a second-order sampler counts twice", limited("sd15"), image(16, "k_heun", "sd15"), horde.SkipStepCount},
		{"k_dpm_adaptive counts 40", limited("sd15"), image(5, "k_dpm_adaptive", "sd15"), horde.SkipStepCount},
		{"a model's reference limits", limited("sdxl"), image(40, "k_euler", "sdxl"), ""},
		{"a no-model request uses the worker's models", limited("sdxl"), image(40, "k_euler"), ""},
		{"several models: the lowest of the request's", limited("sdxl"), image(40, "k_euler", "sdxl", "sd15"), horde.SkipStepCount},
		{"an extra slow worker skips what does not allow it",
			func() horde.PopRequest { p := imagePop("rig", "sd15"); p.ExtraSlowWorker = true; return p }(),
			image(20, "k_euler", "sd15"), horde.SkipPerformance},
		{"an extra slow worker takes what allows it",
			func() horde.PopRequest { p := imagePop("rig", "sd15"); p.ExtraSlowWorker = true; return p }(),
			func() horde.NewRequest { r := image(20, "k_euler", "sd15"); r.ExtraSlowWorkers = true; return r }(), ""},
		{"slow_workers false: an unmeasured image worker counts as fast", imagePop("rig", "sd15"),
			func() horde.NewRequest { r := image(20, "k_euler", "sd15"); r.FastWorkersOnly = true; return r }(), ""},
		{"slow_workers false: an unmeasured text worker counts as slow",
			horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 512, MaxContextLength: 2048, Amount: 1},
			func() horde.NewRequest { r := textRequest("once", 80, 1024); r.FastWorkersOnly = true; return r }(), horde.SkipPerformance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, horde.Config{StepLimits: limits})
			owner := e.user("owner", 0)
			alice := e.user("alice", 100)
			e.submit(alice, tt.req)
			as, skipped := e.pop(owner, tt.pop)
			if tt.skipped == "" {
				if len(as) != 1 {
					t.Errorf("got %d jobs (skipped %v), want the request", len(as), skipped)
				}
				return
			}
			if len(as) != 0 || skipped[tt.skipped] != 1 {
				t.Errorf("got %d jobs, skipped %v; want none and %s 1", len(as), skipped, tt.skipped)
			}
		})
	}
}

// TestPopSlowWorkers checks slow_workers=false against a measured image
// worker: one that took 60 s for 5 megapixel-steps (under the AI Horde's
// 0.5 a second) no longer gets such requests, and check says none can.
func TestPopSlowWorkers(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	alice := e.user("alice", 1000)
	e.submit(alice, imageRequest("first", "sd15"))
	a := e.popOne(owner, imagePop("rig", "sd15"))
	e.clock.Advance(60 * time.Second)
	e.submitOK(owner, a.Job.ID)

	fast := imageRequest("fast only", "sd15")
	fast.FastWorkersOnly = true
	req := e.submit(alice, fast)
	if as, skipped := e.pop(owner, imagePop("rig", "sd15")); len(as) != 0 || skipped[horde.SkipPerformance] != 1 {
		t.Fatalf("a slow worker got %d jobs (skipped %v) of a slow_workers=false request", len(as), skipped)
	}
	if p := e.check(req.ID); p.IsPossible {
		t.Errorf("is_possible with only a slow worker online")
	}
	e.submit(alice, imageRequest("anyone", "sd15"))
	if as, _ := e.pop(owner, imagePop("rig", "sd15")); len(as) != 1 {
		t.Errorf("the slow worker got %d jobs of a request allowing slow workers", len(as))
	}
}

// TestIsPossibleWhileProcessing checks that a request is possible while
// one of its jobs is processing, even when no online worker could take
// what is left (as the AI Horde's wp_has_valid_workers).
func TestIsPossibleWhileProcessing(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	alice := e.user("alice", 1000)
	nr := imageRequest("two of them", "sd15")
	nr.N, nr.NSFW = 2, true
	req := e.submit(alice, nr)
	p := imagePop("rig", "sd15")
	p.NSFW = true
	e.popOne(owner, p)
	p.NSFW = false // the worker now announces sfw only
	if as, _ := e.pop(owner, p); len(as) != 0 {
		t.Fatalf("a sfw worker got an nsfw job")
	}
	e.clock.Advance(11 * time.Second) // past the is_possible cache
	if got := e.check(req.ID); !got.IsPossible || got.Processing != 1 {
		t.Errorf("is_possible %v with %d processing, want true while a job is processing", got.IsPossible, got.Processing)
	}
}

// TestQueuePositionCountsOnlyServable checks that position and wait count
// only the requests an online worker could take: a request too large or
// nsfw for every online worker is ahead of no one, and has no ETA itself.
func TestQueuePositionCountsOnlyServable(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	alice := e.user("alice", 1000)

	// With no worker online nothing is possible, and nothing counts.
	lone := e.submit(alice, imageRequest("alone", "sd15"))
	if p := e.check(lone.ID); p.IsPossible || p.WaitTime != 0 {
		t.Errorf("no worker online: is_possible %v wait %d, want false and no ETA", p.IsPossible, p.WaitTime)
	}

	e.pop(owner, imagePop("rig", "sd15")) // takes lone
	big := imageRequest("too big", "sd15")
	big.Image.Width, big.Image.Height = 2048, 2048
	bigReq := e.submit(alice, big)
	nsfw := imageRequest("nsfw", "sd15")
	nsfw.NSFW = true
	e.submit(alice, nsfw)
	anyBig := imageRequest("too big, any model")
	anyBig.Image.Width, anyBig.Image.Height = 2048, 2048
	e.submit(alice, anyBig)
	small := e.submit(alice, imageRequest("small", "sd15"))
	other := e.submit(alice, imageRequest("small, any model"))

	e.clock.Advance(3 * time.Second) // past the ETA table's age
	storetest.SweepEstimates(t, e.h)
	if p := e.check(small.ID); p.QueuePosition != 0 || p.WaitTime <= 0 || !p.IsPossible {
		t.Errorf("small: position %d wait %d possible %v; want first, with an ETA, behind nothing a worker can take",
			p.QueuePosition, p.WaitTime, p.IsPossible)
	}
	if p := e.check(other.ID); p.QueuePosition != 1 {
		t.Errorf("small, any model: position %d, want 1 (behind small only)", p.QueuePosition)
	}
	if p := e.check(bigReq.ID); p.IsPossible || p.WaitTime != 0 {
		t.Errorf("too big: possible %v wait %d, want not possible and no ETA", p.IsPossible, p.WaitTime)
	}
}
