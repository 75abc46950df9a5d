package api_test

import (
	"encoding/base64"
	"maps"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/store/storetest"
)

// checkEstimate is what a test reads of /generate/check: the estimates.
type checkEstimate struct {
	QueuePosition int  `json:"queue_position"`
	WaitTime      int  `json:"wait_time"`
	IsPossible    bool `json:"is_possible"`
	Waiting       int  `json:"waiting"`
}

func (e *env) checkEstimate(id string) checkEstimate {
	e.t.Helper()
	r := e.do("GET", "/api/v2/generate/check/"+id, "", nil)
	wantStatus(e.t, r, http.StatusOK)
	var c checkEstimate
	r.json(e.t, &c)
	return c
}

// TestEstimatesAcrossServers: on PostgreSQL, two API servers over one
// schema estimate alike. Requests and an interrogation asked on A, with
// a worker online on A only: once a sweep (the holder of the "sweeps"
// lease, here A) stored the estimates, /generate/check on B gives each
// request the queue_position, wait_time and is_possible A gives, and
// B's /status/performance and /status/models count what waits on A.
// Before that sweep B counts what the last one stored (README: the
// estimates are at most a sweep old).
func TestEstimatesAcrossServers(t *testing.T) {
	db := newSharedDB(t)
	a, b := db.server(), db.server()
	_, workerKey := a.user("gpu-owner")
	_, reqKey := a.user("requester")
	_, otherKey := a.user("other-requester")
	if pop := a.popImage(workerKey, "gpu-1"); pop["id"] != nil {
		t.Fatalf("pop on an empty queue: %v", pop)
	}
	sd := map[string]any{"models": []string{"stable_diffusion"}}
	first, second := a.asyncImage(reqKey, sd), a.asyncImage(otherKey, sd)
	unservable := a.asyncImage(reqKey, map[string]any{"models": []string{"no_worker_has_it"}})
	res := a.do("POST", "/api/v2/interrogate/async", reqKey,
		alchemyRequest(base64.StdEncoding.EncodeToString(pngOf(t, 64, 64)), "caption"))
	wantStatus(t, res, http.StatusAccepted)

	perf := func(e *env) map[string]any {
		t.Helper()
		r := e.do("GET", "/api/v2/status/performance", "", nil)
		wantStatus(t, r, http.StatusOK)
		return r.object(t)
	}
	if p := perf(b); p["queued_requests"] != 0.0 || p["queued_forms"] != 0.0 {
		t.Errorf("B before any sweep: queued_requests %v queued_forms %v, want 0 and 0 (none stored yet)",
			p["queued_requests"], p["queued_forms"])
	}

	storetest.SweepEstimates(t, a.h, b.h)
	want := map[string]struct {
		pos      int
		possible bool
	}{first: {0, true}, second: {1, true}, unservable: {0, false}}
	onB := map[string]checkEstimate{}
	for id, w := range want {
		ca, cb := a.checkEstimate(id), b.checkEstimate(id)
		if cb != ca {
			t.Errorf("request %s: check on B %+v, on A %+v; want the same", id, cb, ca)
		}
		if cb.QueuePosition != w.pos || cb.IsPossible != w.possible || cb.Waiting != 1 {
			t.Errorf("request %s on B: %+v, want position %d, is_possible %v, 1 waiting", id, cb, w.pos, w.possible)
		}
		onB[id] = cb
	}
	if f, s := onB[first].WaitTime, onB[second].WaitTime; f <= 0 || s <= f {
		t.Errorf("wait_time on B: first %d, second %d; want both estimated, the second longer", f, s)
	}
	if u := onB[unservable].WaitTime; u != 0 {
		t.Errorf("wait_time on B of a request no worker can serve: %d, want 0", u)
	}

	pa, pb := perf(a), perf(b)
	for _, f := range []string{"queued_requests", "queued_megapixelsteps", "worker_count", "queued_forms"} {
		if pb[f] != pa[f] {
			t.Errorf("/status/performance %s: %v on B, %v on A; want the same", f, pb[f], pa[f])
		}
	}
	if pb["queued_requests"] != 3.0 || pb["queued_forms"] != 1.0 || pb["worker_count"] != 1.0 {
		t.Errorf("/status/performance on B: %v; want 3 requests and 1 form queued, 1 worker", pb)
	}
	if mp, _ := pb["queued_megapixelsteps"].(float64); mp <= 0 {
		t.Errorf("queued_megapixelsteps on B = %v, want the work queued on A", pb["queued_megapixelsteps"])
	}

	type model struct {
		Name  string  `json:"name"`
		Count int     `json:"count"`
		Jobs  float64 `json:"jobs"`
		ETA   int     `json:"eta"`
	}
	models := func(e *env) map[string]model {
		t.Helper()
		r := e.do("GET", "/api/v2/status/models?type=image", "", nil)
		wantStatus(t, r, http.StatusOK)
		var ms []model
		r.json(t, &ms)
		out := map[string]model{}
		for _, m := range ms {
			out[m.Name] = m
		}
		return out
	}
	ma, mb := models(a), models(b)
	if !maps.Equal(ma, mb) {
		t.Errorf("/status/models on B %+v, on A %+v; want the same", mb, ma)
	}
	if m := mb["stable_diffusion"]; m.Count != 1 || m.Jobs != 2 || m.ETA <= 0 {
		t.Errorf("/status/models on B: stable_diffusion %+v; want 1 worker, the 2 jobs queued on A, an ETA", m)
	}
	if m := mb["no_worker_has_it"]; m.Count != 0 || m.Jobs != 1 {
		t.Errorf("/status/models on B: no_worker_has_it %+v; want no worker, the 1 job queued on A", m)
	}
}
