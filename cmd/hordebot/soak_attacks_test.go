package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// The soak's attackers (issue 9, points 1-5), among the honest traffic:
//   - a poor member (balance 0) keeps queueing requests their floor cannot
//     cover twice over: one is held at a time, the rest are 403 KudosUpfront;
//   - a flooder keeps queueing requests no worker serves: past the
//     concurrency cap they are 429 TooManyPrompts (the rest expire);
//   - mallory, an untrusted worker owner, registers worker after worker
//     (past 3, 403 TooManyWorkers), pulls ann's requests with
//     priority_usernames and answers them with fake images (400) and csam
//     reports (which must neither flag ann nor pay mallory).
//
// At the end: the poor member is at or above their floor, mallory earned
// nothing, ann is not flagged, and the ledger verifies.

// soakPoorFloor is the member floor the soak runs with.
const soakPoorFloor = -100

// soakAttackActions are the attackers' calls, mixed into soakActions.
var soakAttackActions = []soakAction{
	{"overdraw", 2, http.StatusForbidden, []int{http.StatusAccepted}, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		// 4 x 22 kudos (256x256, 500 steps): one fits a floor of -100 at a time.
		body := map[string]any{"prompt": "the poor member's castle",
			"params": map[string]any{"width": 256, "height": 256, "steps": 500, "n": 4}}
		return s.asyncAs(s.poorKey, "/api/v2/generate/async", body, soakRequest{n: 4})
	}},
	{"flood", 2, http.StatusTooManyRequests, []int{http.StatusAccepted}, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		body := map[string]any{"prompt": "a flood of nothing", "models": []string{"nobody-serves-this"},
			"params": map[string]any{"width": 64, "height": 64, "steps": 5, "n": 20}}
		return s.asyncAs(s.floodKey, "/api/v2/generate/async", body, soakRequest{n: 20, flood: true})
	}},
	{"farm workers", 1, http.StatusForbidden, []int{http.StatusOK}, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("POST", "/api/v2/generate/pop", s.malloryKey, map[string]any{
			"name": fmt.Sprintf("farm-%d", rng.IntN(1000)), "models": []string{"nobody-asks-this"}, "max_pixels": 4096})
	}},
}

// asyncAs submits a request with key and records it when accepted.
func (s *soak) asyncAs(key, path string, body any, req soakRequest) (int, []byte, string, soakRequest) {
	status, data, _, _ := s.call("POST", path, key, body)
	if status != http.StatusAccepted {
		return status, data, "", req
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		return -1, data, "", req
	}
	return status, data, out.ID, req
}

// mallory runs mallory's worker until ctx ends: it pulls ann's requests
// first and answers every job with a fake image (which must be refused) and
// then a csam report (which must pay no one and flag no one).
func (s *soak) mallory(ctx context.Context) {
	fake := base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x40\x00\x00\x00\x40\x08\x06\x00\x00\x00"),
		"<html><script>alert(1)</script></html>"...))
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(150 * time.Millisecond):
		}
		status, data, _, _ := s.call("POST", "/api/v2/generate/pop", s.malloryKey, map[string]any{
			"name": "mallory-gpu", "models": []string{"procedural"}, "max_pixels": 256 * 256,
			"priority_usernames": []string{s.annName}})
		var pop struct {
			ID *string `json:"id"`
		}
		if status != http.StatusOK || json.Unmarshal(data, &pop) != nil || pop.ID == nil {
			continue
		}
		st, body, _, _ := s.call("POST", "/api/v2/generate/submit", s.malloryKey,
			map[string]any{"id": *pop.ID, "generation": fake, "seed": 1, "state": "ok"})
		s.recordAttack("fake image", st, body, http.StatusBadRequest)
		st, body, _, _ = s.call("POST", "/api/v2/generate/submit", s.malloryKey,
			map[string]any{"id": *pop.ID, "generation": "R2", "seed": 1, "state": "csam"})
		s.recordAttack("csam report", st, body, http.StatusOK, http.StatusBadRequest) // 400: a clock jump aborted the job meanwhile
	}
}

// recordAttack counts an attacker's answer like a client's.
func (s *soak) recordAttack(name string, status int, body []byte, want int, also ...int) {
	s.record(soakAction{name: name, want: want, also: also}, status, body, "", soakRequest{})
}

// cancelFloods cancels the flooder's requests (no worker serves them), as
// the flooder gives up, so that the drain need not wait for their expiry.
func (s *soak) cancelFloods() {
	s.mu.Lock()
	var ids []string
	for id, r := range s.accepted {
		if r.flood {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		if status, body, _, _ := s.call("DELETE", "/api/v2/generate/status/"+id, "", nil); status != http.StatusOK {
			s.t.Errorf("cancel the flooder's request %s: %d %s", id, status, body)
			continue
		}
		s.mu.Lock()
		s.cancelled[id] = true
		s.mu.Unlock()
	}
}

// checkAttacks checks what the attackers must not have achieved.
func (s *soak) checkAttacks() {
	t := s.t
	ctx := context.Background()
	app := s.current()
	for _, c := range []struct {
		who  string
		id   int64
		want func(int64) bool
		say  string
	}{
		{"the poor member", s.poorID, func(b int64) bool { return b >= soakPoorFloor }, fmt.Sprintf("at or above the floor %d", soakPoorFloor)},
		{"mallory", s.malloryID, func(b int64) bool { return b == 0 }, "0: fake images and csam reports pay nothing, idle workers earn no uptime"},
	} {
		b, err := app.Store.Balance(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if !c.want(b) {
			t.Errorf("%s has %d kudos, want %s", c.who, b, c.say)
		}
	}
	u, err := app.Horde.UserInfo(ctx, s.annID)
	if err != nil {
		t.Fatal(err)
	}
	if u.User.Flagged {
		t.Errorf("ann was flagged by mallory's csam reports")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range []string{"fake image 400", "csam report 200"} {
		if s.outcomes[k] == 0 {
			t.Errorf("mallory's attack %q never happened", k)
		}
	}
}
