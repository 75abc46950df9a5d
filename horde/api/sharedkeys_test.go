package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

func sharedKeyEnv(t *testing.T) *env {
	return newEnvWith(t, nil, func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options {
		return api.Options{SharedKeys: horde.NewSharedKeys(h, st)}
	})
}

type sharedKeyDetails struct {
	ID             string
	Username       string
	Name           string
	Kudos          int64
	Expiry         *string
	Utilized       int64
	MaxImageSteps  int `json:"max_image_steps"`
	MaxImagePixels int `json:"max_image_pixels"`
}

func TestSharedKeyEndpoints(t *testing.T) {
	e := sharedKeyEnv(t)
	alice, aliceKey := e.user("alice")
	_, bobKey := e.user("bob")

	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		rc     string
		field  string
	}{
		{"the anonymous key may not", "", map[string]any{}, http.StatusForbidden, "AnonForbidden", ""},
		{"an unknown key is 401", "no-such-key-here", map[string]any{}, http.StatusUnauthorized, "InvalidAPIKey", ""},
		{"a negative budget names kudos", aliceKey, map[string]any{"kudos": -5}, http.StatusBadRequest, "BadRequest", "kudos"},
		{"a zero expiry names expiry", aliceKey, map[string]any{"expiry": 0}, http.StatusBadRequest, "BadRequest", "expiry"},
		{"a bad limit names it", aliceKey, map[string]any{"max_image_steps": -2}, http.StatusBadRequest, "BadRequest", "max_image_steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := wantError(t, e.do("PUT", "/api/v2/sharedkeys", tc.key, tc.body), tc.status, tc.field)
			if m["rc"] != tc.rc {
				t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
			}
		})
	}

	var k sharedKeyDetails
	r := e.do("PUT", "/api/v2/sharedkeys", aliceKey, map[string]any{"name": "for my friends", "max_image_steps": 30})
	wantStatus(t, r, http.StatusOK)
	r.json(t, &k)
	if k.ID == "" || k.Username != fmt.Sprintf("alice#%d", alice.ID) || k.Kudos != horde.DefaultSharedKeyKudos || k.MaxImageSteps != 30 || k.MaxImagePixels != -1 || k.Expiry != nil {
		t.Errorf("created key = %+v", k)
	}
	var got sharedKeyDetails
	e.do("GET", "/api/v2/sharedkeys/"+k.ID, "", nil).json(t, &got)
	if got.Name != "for my friends" {
		t.Errorf("GET = %+v", got)
	}
	wantRC(t, e.do("GET", "/api/v2/sharedkeys/nope", "", nil), http.StatusNotFound, "InvalidAPIKey")
	wantRC(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, bobKey, map[string]any{"name": "mine"}), http.StatusForbidden, "Forbidden")
	wantRC(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, aliceKey, map[string]any{}), http.StatusBadRequest, "NoSharedKeyModSelected")
	wantRC(t, e.do("DELETE", "/api/v2/sharedkeys/"+k.ID, bobKey, nil), http.StatusForbidden, "Forbidden")
	wantRC(t, e.do("PATCH", "/api/v2/sharedkeys/nope", aliceKey, map[string]any{"name": "x"}), http.StatusNotFound, "InvalidAPIKey")
	r = e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, aliceKey, map[string]any{"expiry": 2})
	wantStatus(t, r, http.StatusOK)
	r.json(t, &got)
	if got.Expiry == nil || got.Name != "for my friends" {
		t.Errorf("patched = %+v, want an expiry and the name kept", got)
	}

	wantStatus(t, e.do("DELETE", "/api/v2/sharedkeys/"+k.ID, aliceKey, nil), http.StatusOK)
	wantRC(t, e.do("GET", "/api/v2/sharedkeys/"+k.ID, "", nil), http.StatusNotFound, "InvalidAPIKey")
	wantRC(t, e.do("POST", "/api/v2/generate/async", k.ID, imageRequest(nil)), http.StatusUnauthorized, "InvalidAPIKey")

	// At most MaxSharedKeys each.
	for i := range horde.MaxSharedKeys {
		wantStatus(t, e.do("POST", "/api/v2/sharedkeys", bobKey, map[string]any{"name": fmt.Sprint(i)}), http.StatusOK)
	}
	wantRC(t, e.do("POST", "/api/v2/sharedkeys", bobKey, map[string]any{}), http.StatusForbidden, "Forbidden")
}

func TestSharedKeyPaysWithinItsLimits(t *testing.T) {
	e := sharedKeyEnv(t)
	alice, aliceKey := e.user("alice")
	_, bobKey := e.user("bob") // the worker's owner
	var k sharedKeyDetails
	e.do("PUT", "/api/v2/sharedkeys", aliceKey, map[string]any{"kudos": -1, "max_image_steps": 30, "max_image_pixels": 512 * 512}).json(t, &k)

	// Over the key's limits: refused, naming the field.
	steps := imageRequest(nil)
	steps["params"].(map[string]any)["steps"] = 31
	wantError(t, e.do("POST", "/api/v2/generate/async", k.ID, steps), http.StatusBadRequest, "steps")
	big := imageRequest(nil)
	big["params"].(map[string]any)["width"] = 576
	wantError(t, e.do("POST", "/api/v2/generate/async", k.ID, big), http.StatusBadRequest, "pixels")

	// Within them: the request is alice's, held against alice.
	r := e.do("POST", "/api/v2/generate/async", k.ID, imageRequest(nil))
	wantStatus(t, r, http.StatusAccepted)
	var out struct{ Kudos float64 }
	r.json(t, &out)
	cost := int64(out.Kudos)
	if items, held := e.h.Held(context.Background(), alice.ID); items != 1 || held != cost {
		t.Errorf("alice holds %d items, %d kudos; want 1, %d", items, held, cost)
	}
	e.finishImage(bobKey, "gpu-1", false, resultWebP)
	if b := e.balance(alice.ID); b != -cost {
		t.Errorf("alice's balance = %d, want %d", b, -cost)
	}
	var got sharedKeyDetails
	e.do("GET", "/api/v2/sharedkeys/"+k.ID, "", nil).json(t, &got)
	if got.Utilized != cost || got.Kudos != -1 {
		t.Errorf("key after the job = %+v; want utilized %d, kudos -1", got, cost)
	}

	// A budget smaller than the request: SharedKeyInsufficientKudos.
	budget := cost + cost/2
	wantStatus(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, aliceKey, map[string]any{"kudos": budget}), http.StatusOK)
	id := e.asyncImage(k.ID, nil)
	e.finishImage(bobKey, "gpu-1", false, resultWebP)
	e.do("GET", "/api/v2/sharedkeys/"+k.ID, "", nil).json(t, &got)
	if got.Kudos != budget-cost || got.Utilized != 2*cost {
		t.Errorf("key after the second job (%s) = %+v; want kudos %d, utilized %d", id, got, budget-cost, 2*cost)
	}
	wantRC(t, e.do("POST", "/api/v2/generate/async", k.ID, imageRequest(nil)), http.StatusForbidden, "SharedKeyInsufficientKudos")

	// Spent: SharedKeyEmpty; expired: SharedKeyExpired.
	wantStatus(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, aliceKey, map[string]any{"kudos": 0}), http.StatusOK)
	wantRC(t, e.do("POST", "/api/v2/generate/async", k.ID, imageRequest(nil)), http.StatusForbidden, "SharedKeyEmpty")
	wantStatus(t, e.do("PATCH", "/api/v2/sharedkeys/"+k.ID, aliceKey, map[string]any{"kudos": -1, "expiry": 1}), http.StatusOK)
	wantStatus(t, e.do("POST", "/api/v2/generate/async", k.ID, imageRequest(nil)), http.StatusAccepted)
	e.clock.Advance(25 * time.Hour)
	wantRC(t, e.do("POST", "/api/v2/generate/async", k.ID, imageRequest(nil)), http.StatusForbidden, "SharedKeyExpired")

	// A shared key requests; it does not act as its owner elsewhere.
	wantRC(t, e.do("GET", "/api/v2/find_user", k.ID, nil), http.StatusNotFound, "")
}
