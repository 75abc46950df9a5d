package horde_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"

	"github.com/hordebot/hordebot/store/storetest"
)

// TestIsPossible checks is_possible and Submit's warnings against the online
// workers.
func TestIsPossible(t *testing.T) {
	tests := []struct {
		name     string
		workers  []horde.PopRequest // online workers
		req      horde.NewRequest
		possible bool
		warning  string // a substring of a warning; "" for none
	}{
		{name: "no worker online", req: imageRequest("x", "sd15"), possible: false, warning: "no worker is online"},
		{name: "a worker with the model", workers: []horde.PopRequest{imagePop("a", "sd15")}, req: imageRequest("x", "sd15"), possible: true},
		{name: "no worker with the model", workers: []horde.PopRequest{imagePop("a", "sdxl")}, req: imageRequest("x", "sd15"), possible: false, warning: "models"},
		{
			name:    "too large for every worker",
			workers: []horde.PopRequest{imagePop("a", "sd15")},
			req: func() horde.NewRequest {
				r := imageRequest("x", "sd15")
				r.Image.Width, r.Image.Height = 2048, 2048
				return r
			}(),
			possible: false, warning: "max_pixels",
		},
		{
			name:     "one of two workers can",
			workers:  []horde.PopRequest{imagePop("a", "sd15"), func() horde.PopRequest { p := imagePop("b", "sd15"); p.NSFW = true; return p }()},
			req:      func() horde.NewRequest { r := imageRequest("x", "sd15"); r.NSFW = true; return r }(),
			possible: true,
		},
		{name: "text request with only image workers", workers: []horde.PopRequest{imagePop("a", "sd15")}, req: textRequest("x", 80, 1024), possible: false, warning: "no worker is online"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, horde.Config{})
			owner := e.user("owner", 0)
			for _, p := range tt.workers {
				e.pop(owner, p)
			}
			alice := e.user("alice", 100)
			req, warnings, err := e.h.Submit(e.ctx, alice.User, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.check(req.ID).IsPossible; got != tt.possible {
				t.Errorf("is_possible %v, want %v", got, tt.possible)
			}
			joined := strings.Join(warnings, "; ")
			if (tt.warning == "") != (joined == "") || !strings.Contains(joined, tt.warning) {
				t.Errorf("warnings %q, want one containing %q", joined, tt.warning)
			}
		})
	}
}

// TestQueuePositionAndWait checks positions among the requests competing for
// the same workers and that wait time grows with the work ahead.
func TestQueuePositionAndWait(t *testing.T) {
	e := newEnv(t, horde.Config{})
	owner := e.user("owner", 0)
	alice := e.user("alice", 100)
	e.pop(owner, imagePop("rig", "sd15"))

	a := e.submit(alice, imageRequest("first", "sd15"))
	b := e.submit(alice, imageRequest("second, any model"))
	other := e.submit(alice, imageRequest("another model", "sdxl"))
	c := e.submit(alice, imageRequest("third", "sd15"))

	e.clock.Advance(time.Second)
	storetest.SweepEstimates(t, e.h)
	want := map[string]int{a.ID: 0, b.ID: 1, c.ID: 2, other.ID: 1}
	waits := map[string]int{}
	for id, pos := range want {
		p := e.check(id)
		if p.QueuePosition != pos {
			t.Errorf("request %s: position %d, want %d", id, p.QueuePosition, pos)
		}
		waits[id] = p.WaitTime
	}
	if !(waits[a.ID] > 0 && waits[a.ID] < waits[b.ID] && waits[b.ID] < waits[c.ID]) {
		t.Errorf("waits not increasing with work ahead: first %d, second %d, third %d", waits[a.ID], waits[b.ID], waits[c.ID])
	}

	// Once the first is popped, the others move up.
	e.popOne(owner, imagePop("rig", "sd15"))
	e.clock.Advance(3 * time.Second)
	storetest.SweepEstimates(t, e.h)
	if p := e.check(c.ID); p.QueuePosition != 1 {
		t.Errorf("after a pop: third at %d, want 1", p.QueuePosition)
	}
	if p := e.check(a.ID); p.QueuePosition != 0 || p.Processing != 1 || p.WaitTime <= 0 {
		t.Errorf("processing request: position %d processing %d wait %d", p.QueuePosition, p.Processing, p.WaitTime)
	}

	perf, err := e.h.Performance(e.ctx)
	if err != nil || perf.QueuedRequests != 3 || perf.WorkerCount != 1 || perf.QueuedMegapixelsteps <= 0 {
		t.Errorf("performance %+v err %v", perf, err)
	}
}
