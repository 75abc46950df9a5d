package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// ratingEnv is a server with ratings capped at dailyCap a day.
func ratingEnv(t *testing.T, dailyCap int64) *env {
	return newEnvWith(t, nil, func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options {
		return api.Options{Ratings: horde.NewRatings(h, st, horde.RatingConfig{DailyCap: dailyCap})}
	})
}

// finishedShared queues a shared request of n 50-step images by key and has
// workerKey's worker make them; it returns the request id, the job ids and
// the request's cost.
func (e *env) finishedShared(key, workerKey string, n int) (string, []string, int64) {
	e.t.Helper()
	body := imageRequest(map[string]any{"shared": true})
	body["params"].(map[string]any)["n"] = n
	body["params"].(map[string]any)["steps"] = 50
	r := e.do("POST", "/api/v2/generate/async", key, body)
	wantStatus(e.t, r, http.StatusAccepted)
	var out struct {
		ID    string
		Kudos float64
	}
	r.json(e.t, &out)
	var jobs []string
	for range n {
		jobs = append(jobs, e.finishImage(workerKey, "gpu-1", false, resultWebP))
	}
	return out.ID, jobs, int64(out.Kudos)
}

func TestRateImages(t *testing.T) {
	e := ratingEnv(t, 1000)
	_, aliceKey := e.user("alice")
	_, bobKey := e.user("bob") // runs the worker
	carol, carolKey := e.user("carol")

	// One request at a time, so that each pop serves the request just queued.
	private := e.asyncImage(aliceKey, nil)
	e.finishImage(bobKey, "gpu-1", false, resultWebP)
	reqID, jobs, cost := e.finishedShared(aliceKey, bobKey, 2)
	soloID, solo, _ := e.finishedShared(aliceKey, bobKey, 1)
	unfinished := e.asyncImage(aliceKey, map[string]any{"shared": true})

	rate := func(key, id string, body any) response {
		return e.do("POST", "/api/v2/generate/rate/"+id, key, body)
	}
	two := map[string]any{"ratings": []map[string]any{{"id": jobs[0], "rating": 8, "artifacts": 1}, {"id": jobs[1], "rating": 5}}}
	for _, tc := range []struct {
		name   string
		key    string
		id     string
		body   any
		status int
		rc     string
	}{
		{"an unknown request is 404", carolKey, "00000000-0000-0000-0000-000000000000", two, http.StatusNotFound, "RequestNotFound"},
		{"an unfinished request", carolKey, unfinished, map[string]any{"best": "x"}, http.StatusBadRequest, "AestheticsNotCompleted"},
		{"a request not shared", carolKey, private, map[string]any{"best": "x"}, http.StatusBadRequest, "AestheticsNotPublic"},
		{"the anonymous key", "", reqID, two, http.StatusForbidden, "AnonForbidden"},
		{"an image of another request", carolKey, reqID, map[string]any{"best": solo[0]}, http.StatusNotFound, "ProcGenNotFound"},
		{"one image twice", carolKey, reqID, map[string]any{"ratings": []map[string]any{{"id": jobs[0], "rating": 8}, {"id": jobs[0], "rating": 5}}}, http.StatusBadRequest, "AestheticsDuplicate"},
		{"nothing rated", carolKey, reqID, map[string]any{}, http.StatusBadRequest, "AestheticsMissing"},
		{"the best of one image", carolKey, soloID, map[string]any{"best": solo[0]}, http.StatusBadRequest, "AestheticsSolo"},
		{"a rating without an id", carolKey, reqID, map[string]any{"ratings": []map[string]any{{"id": jobs[0], "rating": 8}, {"rating": 8}}}, http.StatusBadRequest, "BadRequest"},
		{"a rating out of range names it", carolKey, reqID, map[string]any{"ratings": []map[string]any{{"id": jobs[0], "rating": 11}}}, http.StatusBadRequest, "BadRequest"},
		{"one's own worker's image", bobKey, reqID, two, http.StatusBadRequest, "InvalidAestheticAttempt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRC(t, rate(tc.key, tc.id, tc.body), tc.status, tc.rc)
			if b := e.balance(carol.ID); b != 0 {
				t.Errorf("carol's balance = %d after a refusal", b)
			}
		})
	}
	wantError(t, rate(carolKey, reqID, map[string]any{"ratings": []map[string]any{{"id": jobs[0], "rating": 11}}}), http.StatusBadRequest, "ratings.0.rating")

	// 5 + 5 for the artifacts + 5, never as much as the request cost.
	want := min(int64(15), cost-1)
	r := rate(carolKey, reqID, two)
	wantStatus(t, r, http.StatusOK)
	var out struct{ Reward float64 }
	r.json(t, &out)
	if int64(out.Reward) != want || e.balance(carol.ID) != want {
		t.Errorf("reward = %v, balance %d; want %d", out.Reward, e.balance(carol.ID), want)
	}
	wantRC(t, rate(carolKey, reqID, two), http.StatusBadRequest, "AestheticsAlreadyExist")
	wantRC(t, rate(carolKey, reqID, map[string]any{"best": jobs[0]}), http.StatusBadRequest, "AestheticsAlreadyExist")
	if b := e.balance(carol.ID); b != want {
		t.Errorf("a second rating paid: balance %d, want %d", b, want)
	}
}

func TestRateImagesDailyCap(t *testing.T) {
	e := ratingEnv(t, 12)
	_, aliceKey := e.user("alice")
	_, bobKey := e.user("bob")
	dave, daveKey := e.user("dave")
	var sets [3][]string
	var ids [3]string
	for i := range sets {
		ids[i], sets[i], _ = e.finishedShared(aliceKey, bobKey, 2)
	}
	rateTwo := func(i int) int64 {
		body := map[string]any{"ratings": []map[string]any{{"id": sets[i][0], "rating": 3}, {"id": sets[i][1], "rating": 4}}}
		r := e.do("POST", "/api/v2/generate/rate/"+ids[i], daveKey, body)
		wantStatus(t, r, http.StatusOK)
		var out struct{ Reward float64 }
		r.json(t, &out)
		return int64(out.Reward)
	}
	if got := rateTwo(0); got != 10 {
		t.Errorf("first set paid %d, want 10", got)
	}
	if got := rateTwo(1); got != 2 {
		t.Errorf("second set paid %d, want 2 (the cap of 12 a day)", got)
	}
	e.clock.Advance(24 * time.Hour)
	if got := rateTwo(2); got != 10 {
		t.Errorf("next day's set paid %d, want 10", got)
	}
	if b := e.balance(dave.ID); b != 22 {
		t.Errorf("dave's balance = %d, want 22", b)
	}
}
