package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// styleKeyEnv has styles and shared keys.
func styleKeyEnv(t *testing.T) *env {
	return newEnvWith(t, nil, func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options {
		return api.Options{Styles: st, SharedKeys: horde.NewSharedKeys(h, st)}
	})
}

// useCount is a style's or collection's use_count as GET shows it.
func (e *env) useCount(path string) int64 {
	e.t.Helper()
	var out struct {
		UseCount int64 `json:"use_count"`
	}
	r := e.do("GET", path, "", nil)
	wantStatus(e.t, r, http.StatusOK)
	r.json(e.t, &out)
	return out.UseCount
}

// styleRewards are the style_reward entries of a user's ledger.
func (e *env) styleRewards(userID int64) []kudos.Entry {
	e.t.Helper()
	hist, err := e.st.History(context.Background(), userID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []kudos.Entry
	for _, en := range hist {
		if en.Kind == kudos.KindStyleReward {
			out = append(out, en)
		}
	}
	return out
}

// asyncCost queues an image request and returns its id and quoted kudos.
func (e *env) asyncCost(key string, body map[string]any) (string, int64) {
	e.t.Helper()
	r := e.do("POST", "/api/v2/generate/async", key, body)
	wantStatus(e.t, r, http.StatusAccepted)
	var out struct {
		ID    string
		Kudos float64
	}
	r.json(e.t, &out)
	return out.ID, int64(out.Kudos)
}

func TestStyleCreatorEarnsOncePerRequest(t *testing.T) {
	e := styleKeyEnv(t)
	owner, ownerKey := e.trustedUser("owner")
	bob, bobKey := e.user("bob")
	_, carolKey := e.user("carol") // the worker's owner
	sid := e.createStyle(ownerKey, styleBody(nil))
	stylePath := "/api/v2/styles/image/" + sid

	// A request of two images with the style: counted once, at once; the
	// creator is paid nothing before a result.
	reqID, cost := e.asyncCost(bobKey, imageRequest(map[string]any{"style": sid,
		"params": map[string]any{"n": 2}}))
	if got := e.useCount(stylePath); got != 1 {
		t.Errorf("use_count after one request = %d, want 1", got)
	}
	if b := e.balance(owner.ID); b != 0 {
		t.Errorf("creator's balance before any result = %d, want 0", b)
	}

	// The first result pays the creator StyleReward, from the requester.
	job := e.finishImage(carolKey, "gpu-1", false, resultWebP)
	if b := e.balance(owner.ID); b != kudos.StyleReward {
		t.Errorf("creator's balance after the first result = %d, want %d", b, kudos.StyleReward)
	}
	rewards := e.styleRewards(owner.ID)
	if len(rewards) != 1 || rewards[0].Ref != reqID {
		t.Errorf("style rewards = %+v, want one for request %s", rewards, reqID)
	}
	// A second submit of that job is refused and pays nobody again.
	r := e.do("POST", "/api/v2/generate/submit", carolKey, map[string]any{"id": job, "generation": "R2", "state": "ok"})
	if r.status == http.StatusOK {
		t.Errorf("a second submit of job %s was accepted: %s", job, r.body)
	}
	// The second item does not pay it again.
	e.finishImage(carolKey, "gpu-1", false, resultWebP)
	if b := e.balance(owner.ID); b != kudos.StyleReward {
		t.Errorf("creator's balance after both results = %d, want %d (once per request)", b, kudos.StyleReward)
	}
	if b := e.balance(bob.ID); b != -cost-kudos.StyleReward {
		t.Errorf("requester's balance = %d, want -%d (the two images) - %d (the style)", b, cost, kudos.StyleReward)
	}

	// One's own style is counted and never paid for.
	e.asyncImage(ownerKey, map[string]any{"style": sid})
	e.finishImage(carolKey, "gpu-1", false, resultWebP)
	if got := e.useCount(stylePath); got != 2 {
		t.Errorf("use_count after the creator's own request = %d, want 2", got)
	}
	if n := len(e.styleRewards(owner.ID)); n != 1 {
		t.Errorf("the creator was paid %d times; their own request must not pay them", n)
	}

	// A cancelled request with no result pays nobody; a dry run is no use.
	cancelled := e.asyncImage(bobKey, map[string]any{"style": sid})
	wantStatus(t, e.do("DELETE", "/api/v2/generate/status/"+cancelled, "", nil), http.StatusOK)
	wantStatus(t, e.do("POST", "/api/v2/generate/async", bobKey, imageRequest(map[string]any{"style": sid, "dry_run": true})), http.StatusOK)
	if got := e.useCount(stylePath); got != 3 {
		t.Errorf("use_count after a cancelled request and a dry run = %d, want 3", got)
	}
	if n := len(e.styleRewards(owner.ID)); n != 1 {
		t.Errorf("the creator was paid %d times; a cancelled request must not pay", n)
	}
}

func TestStyleRewardCensoredResultPaysNothing(t *testing.T) {
	e := styleKeyEnv(t)
	owner, ownerKey := e.trustedUser("owner")
	_, bobKey := e.user("bob")
	_, carolKey := e.user("carol")
	sid := e.createStyle(ownerKey, styleBody(nil))
	e.asyncImage(bobKey, map[string]any{"style": sid})
	m := e.popImage(carolKey, "gpu-1")
	r := e.do("POST", "/api/v2/generate/submit", carolKey, map[string]any{"id": m["id"], "generation": "R2", "state": "censored", "seed": 1})
	wantStatus(t, r, http.StatusOK)
	if b := e.balance(owner.ID); b != 0 {
		t.Errorf("creator's balance after a censored result = %d, want 0", b)
	}
}

func TestCollectionUseCountsCollectionAndStyle(t *testing.T) {
	e := styleKeyEnv(t)
	_, ownerKey := e.trustedUser("owner")
	_, bobKey := e.user("bob")
	sid := e.createStyle(ownerKey, styleBody(nil))
	r := e.do("POST", "/api/v2/collections", ownerKey, map[string]any{"name": "paintings", "styles": []string{sid}})
	wantStatus(t, r, http.StatusOK)
	cid := r.object(t)["id"].(string)
	e.asyncImage(bobKey, map[string]any{"style": "collection::paintings"})
	if got := e.useCount("/api/v2/collections/" + cid); got != 1 {
		t.Errorf("collection use_count = %d, want 1", got)
	}
	if got := e.useCount("/api/v2/styles/image/" + sid); got != 1 {
		t.Errorf("style use_count through its collection = %d, want 1", got)
	}
	// A refused request (unknown field value) counts nothing.
	bad := imageRequest(map[string]any{"style": sid})
	bad["params"] = map[string]any{"n": 99}
	wantError(t, e.do("POST", "/api/v2/generate/async", bobKey, bad), http.StatusBadRequest, "n")
	if got := e.useCount("/api/v2/styles/image/" + sid); got != 1 {
		t.Errorf("style use_count after a refused request = %d, want 1", got)
	}
}

func TestStyleSharedKey(t *testing.T) {
	e := styleKeyEnv(t)
	owner, ownerKey := e.trustedUser("owner")
	bobUser, bobKey := e.user("bob")
	_, carolKey := e.user("carol")
	var k, other sharedKeyDetails
	e.do("PUT", "/api/v2/sharedkeys", ownerKey, map[string]any{"kudos": 100, "max_image_steps": 10}).json(t, &k)
	e.do("PUT", "/api/v2/sharedkeys", bobKey, map[string]any{}).json(t, &other)

	// The style's sharedkey: an unknown key, another's, or a spent one is 400.
	for _, tc := range []struct {
		name, key, rc string
	}{
		{"unknown", "00000000-0000-0000-0000-000000000000", "SharedKeyInvalid"},
		{"another user's", other.ID, "SharedKeyInvalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := wantError(t, e.do("POST", "/api/v2/styles/image", ownerKey, styleBody(map[string]any{"name": tc.name, "sharedkey": tc.key})),
				http.StatusBadRequest, "sharedkey")
			if m["rc"] != tc.rc {
				t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
			}
		})
	}
	// steps 12 in the style: over the key's max_image_steps, which a
	// style's own key does not apply.
	sid := e.createStyle(ownerKey, styleBody(map[string]any{"sharedkey": k.ID}))
	var shown struct {
		SharedKey *sharedKeyDetails `json:"shared_key"`
	}
	e.do("GET", "/api/v2/styles/image/"+sid, "", nil).json(t, &shown)
	if shown.SharedKey == nil || shown.SharedKey.ID != "" || shown.SharedKey.Kudos != 100 {
		t.Errorf("style's shared_key = %+v, want its details without the key", shown.SharedKey)
	}

	// Assigned to a style, the key pays only through it.
	wantRC(t, e.do("POST", "/api/v2/generate/async", k.ID, imageRequest(nil)), http.StatusForbidden, "SharedKeyAssignedStyles")

	// Bob's (and an anonymous) request with the style is the key owner's.
	_, cost := e.asyncCost(bobKey, imageRequest(map[string]any{"style": sid}))
	if items, _ := e.h.Held(context.Background(), owner.ID); items != 1 {
		t.Errorf("key owner holds %d items, want 1 (the request is theirs)", items)
	}
	e.finishImage(carolKey, "gpu-1", false, resultWebP)
	if b := e.balance(owner.ID); b != -cost {
		t.Errorf("key owner's balance = %d, want -%d (and no reward for their own style)", b, cost)
	}
	var got sharedKeyDetails
	e.do("GET", "/api/v2/sharedkeys/"+k.ID, "", nil).json(t, &got)
	if got.Utilized != cost || got.Kudos != 100-cost {
		t.Errorf("key after the job = %+v, want utilized %d", got, cost)
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/async", "", imageRequest(map[string]any{"style": sid})), http.StatusAccepted)
	if items, _ := e.h.Held(context.Background(), owner.ID); items != 1 {
		t.Errorf("an anonymous request with the style: key owner holds %d items, want 1", items)
	}

	// The key's budget still applies: a budget below the cost is refused.
	wantStatus(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, ownerKey, map[string]any{"kudos": 1}), http.StatusOK)
	wantRC(t, e.do("POST", "/api/v2/generate/async", bobKey, imageRequest(map[string]any{"style": sid})),
		http.StatusForbidden, "SharedKeyInsufficientKudos")

	// An expired key no longer pays: the request is the caller's, as on the AI Horde.
	wantStatus(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, ownerKey, map[string]any{"kudos": -1, "expiry": 1}), http.StatusOK)
	e.clock.Advance(25 * time.Hour)
	bob := bobUser.ID
	before, _ := e.h.Held(context.Background(), bob)
	e.asyncImage(bobKey, map[string]any{"style": sid})
	if after, _ := e.h.Held(context.Background(), bob); after != before+1 {
		t.Errorf("with the style's key expired, bob holds %d items, want %d", after, before+1)
	}
	// Creating a style with an expired key is refused with its rc.
	m := wantError(t, e.do("POST", "/api/v2/styles/image", ownerKey, styleBody(map[string]any{"name": "late", "sharedkey": k.ID})),
		http.StatusBadRequest, "sharedkey")
	if m["rc"] != "SharedKeyExpired" {
		t.Errorf("rc = %v, want SharedKeyExpired", m["rc"])
	}

	// PATCH "" removes the key; then it pays directly again.
	wantStatus(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, ownerKey, map[string]any{"expiry": -1}), http.StatusOK)
	wantStatus(t, e.do("PATCH", "/api/v2/styles/image/"+sid, ownerKey, map[string]any{"sharedkey": ""}), http.StatusOK)
	small := imageRequest(nil)
	small["params"].(map[string]any)["steps"] = 10
	wantStatus(t, e.do("POST", "/api/v2/generate/async", k.ID, small), http.StatusAccepted)
}
