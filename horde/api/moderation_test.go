package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

func TestKudosAward(t *testing.T) {
	e := newEnvWith(t, nil, func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options {
		return api.Options{Awards: kudosEngine(t, st, clk)}
	})
	_, modKey := e.moderator("mod")
	_, aliceKey := e.user("alice")
	bob, _ := e.user("bob")
	bobName := fmt.Sprintf("bob#%d", bob.ID)

	tests := []struct {
		name    string
		key     string
		body    any
		headers []string
		status  int
		rc      string
		balance int64 // bob's balance after
	}{
		{"a member may not award", aliceKey, map[string]any{"username": bobName, "amount": 10}, nil, http.StatusForbidden, "NotAllowedAwards", 0},
		{"an unknown key is 401", "nope-nope-nope", map[string]any{"username": bobName, "amount": 10}, nil, http.StatusUnauthorized, "InvalidAPIKey", 0},
		{"a moderator awards", modKey, map[string]any{"username": bobName, "amount": 25}, []string{"Idempotency-Key", "k1"}, http.StatusOK, "", 25},
		{"a replay pays once", modKey, map[string]any{"username": bobName, "amount": 25}, []string{"Idempotency-Key", "k1"}, http.StatusOK, "", 25},
		{"the default amount is 100", modKey, map[string]any{"username": bobName}, nil, http.StatusOK, "", 125},
		{"an unknown user is InvalidAwardUsername", modKey, map[string]any{"username": "carol#98765", "amount": 1}, nil, http.StatusBadRequest, "InvalidAwardUsername", 125},
		{"the anonymous user is KudosAwardToAnon", modKey, map[string]any{"username": "Anonymous#0", "amount": 1}, nil, http.StatusBadRequest, "KudosAwardToAnon", 125},
		{"a negative amount names the field", modKey, map[string]any{"username": bobName, "amount": -5}, nil, http.StatusBadRequest, "BadRequest", 125},
		{"a bad username names the field", modKey, map[string]any{"username": "bob", "amount": 5}, nil, http.StatusBadRequest, "BadRequest", 125},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/kudos/award", tc.key, tc.body, tc.headers...)
			if tc.rc == "" {
				wantStatus(t, r, tc.status)
				var out struct{ Awarded int64 }
				r.json(t, &out)
				if out.Awarded <= 0 {
					t.Errorf("awarded = %d: %s", out.Awarded, r.body)
				}
			} else {
				wantRC(t, r, tc.status, tc.rc)
			}
			if got := e.balance(bob.ID); got != tc.balance {
				t.Errorf("bob's balance = %d, want %d", got, tc.balance)
			}
		})
	}
}

func TestIPTimeouts(t *testing.T) {
	var timeouts *horde.IPTimeouts
	e := newEnvWith(t, nil, func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options {
		var err error
		if timeouts, err = horde.NewIPTimeouts(context.Background(), st, clk); err != nil {
			t.Fatal(err)
		}
		return api.Options{IPTimeouts: timeouts, ClientIPHeader: "X-Forwarded-For"}
	})
	_, modKey := e.moderator("mod")
	_, aliceKey := e.user("alice")
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			method string
			key    string
			body   any
			status int
			rc     string
			field  string
		}{
			{"a member may not add", "POST", aliceKey, map[string]any{"ipaddr": "203.0.113.7", "hours": 1}, http.StatusForbidden, "NotModerator", ""},
			{"a member may not list", "GET", aliceKey, nil, http.StatusForbidden, "NotModerator", ""},
			{"a member may not lift", "DELETE", aliceKey, map[string]any{"ipaddr": "203.0.113.7"}, http.StatusForbidden, "NotModerator", ""},
			{"a bad address names ipaddr", "POST", modKey, map[string]any{"ipaddr": "example.org", "hours": 1}, http.StatusBadRequest, "BadRequest", "ipaddr"},
			{"no hours names hours", "POST", modKey, map[string]any{"ipaddr": "203.0.113.7"}, http.StatusBadRequest, "BadRequest", "hours"},
			{"zero hours names hours", "POST", modKey, map[string]any{"ipaddr": "203.0.113.7", "hours": 0}, http.StatusBadRequest, "BadRequest", "hours"},
			{"too many hours names hours", "POST", modKey, map[string]any{"ipaddr": "203.0.113.7", "hours": 100000}, http.StatusBadRequest, "BadRequest", "hours"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.method, "/api/v2/operations/ipaddr", tc.key, tc.body)
				m := wantError(t, r, tc.status, tc.field)
				if m["rc"] != tc.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
				}
			})
		}
	})

	// A block of addresses in timeout for 2 hours.
	wantStatus(t, e.do("POST", "/api/v2/operations/ipaddr", modKey, map[string]any{"ipaddr": "203.0.113.0/24", "hours": 2}), http.StatusOK)
	r := e.do("GET", "/api/v2/find_user", aliceKey, nil, from("203.0.113.9")...)
	wantRC(t, r, http.StatusForbidden, "TimeoutIP")
	if r.header.Get("Retry-After") != "7200" {
		t.Errorf("Retry-After = %q, want 7200", r.header.Get("Retry-After"))
	}
	wantStatus(t, e.do("GET", "/api/v2/find_user", aliceKey, nil, from("203.0.114.9")...), http.StatusOK)

	var list []struct {
		IPAddr  string
		Seconds int64
	}
	e.do("GET", "/api/v2/operations/ipaddr", modKey, nil).json(t, &list)
	if len(list) != 1 || list[0].IPAddr != "203.0.113.0/24" || list[0].Seconds != 7200 {
		t.Errorf("timeouts = %+v", list)
	}
	// A moderator in timeout may still lift it.
	wantStatus(t, e.do("DELETE", "/api/v2/operations/ipaddr", modKey, map[string]any{"ipaddr": "203.0.113.0/24"}, from("203.0.113.1")...), http.StatusOK)
	wantStatus(t, e.do("GET", "/api/v2/find_user", aliceKey, nil, from("203.0.113.9")...), http.StatusOK)

	// A timeout ends by itself.
	wantStatus(t, e.do("POST", "/api/v2/operations/ipaddr", modKey, map[string]any{"ipaddr": "198.51.100.4", "hours": 1}), http.StatusOK)
	wantRC(t, e.do("GET", "/api/v2/status/heartbeat", "", nil, from("198.51.100.4")...), http.StatusForbidden, "TimeoutIP")
	var one []map[string]any
	e.do("GET", "/api/v2/operations/ipaddr/198.51.100.4", modKey, nil).json(t, &one)
	if len(one) != 1 {
		t.Errorf("timeouts of 198.51.100.4 = %v", one)
	}
	e.clock.Advance(time.Hour + time.Second)
	wantStatus(t, e.do("GET", "/api/v2/status/heartbeat", "", nil, from("198.51.100.4")...), http.StatusOK)

	// Durable: a new set loaded from the store refuses the same address.
	wantStatus(t, e.do("POST", "/api/v2/operations/ipaddr", modKey, map[string]any{"ipaddr": "2001:db8::1", "hours": 3}), http.StatusOK)
	again, err := horde.NewIPTimeouts(context.Background(), e.st, e.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, blocked := again.Blocked("2001:db8::1"); !blocked {
		t.Error("a timeout is lost when the timeouts are loaded again")
	}
}

func TestFilters(t *testing.T) {
	pf, err := filter.New(filter.Lists{Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative}, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, api.Options{Filter: pf, FilterLists: []api.FilterList{
		{Type: 10, Name: "minors", Terms: []string{"child", "kid"}},
		{Type: 20, Name: "nsfw", Terms: []string{"gore"}},
	}})
	_, modKey := e.moderator("mod")
	_, aliceKey := e.user("alice")

	wantRC(t, e.do("GET", "/api/v2/filters", aliceKey, nil), http.StatusForbidden, "NotModerator")
	wantRC(t, e.do("POST", "/api/v2/filters", aliceKey, map[string]any{"prompt": "a cat"}), http.StatusForbidden, "NotModerator")
	wantError(t, e.do("POST", "/api/v2/filters", modKey, map[string]any{}), http.StatusBadRequest, "prompt")
	wantError(t, e.do("GET", "/api/v2/filters?filter_type=abc", modKey, nil), http.StatusBadRequest, "filter_type")

	var all []map[string]any
	e.do("GET", "/api/v2/filters", modKey, nil).json(t, &all)
	if len(all) != 3 {
		t.Errorf("filters = %v, want 3 entries", all)
	}
	var some []map[string]any
	e.do("GET", "/api/v2/filters?filter_type=10&contains=ki", modKey, nil).json(t, &some)
	if len(some) != 1 || some[0]["regex"] != "kid" {
		t.Errorf("filters of type 10 containing ki = %v", some)
	}
	// GET /filters/{id}: one term, moderators only; an unknown id is the
	// AI Horde's 404 FilterNotFound.
	var one map[string]any
	r := e.do("GET", "/api/v2/filters/minors-2", modKey, nil)
	wantStatus(t, r, http.StatusOK)
	r.json(t, &one)
	if one["regex"] != "kid" || one["filter_type"] != float64(10) || one["id"] != "minors-2" {
		t.Errorf("filter minors-2 = %v", one)
	}
	wantRC(t, e.do("GET", "/api/v2/filters/minors-3", modKey, nil), http.StatusNotFound, "FilterNotFound")
	wantRC(t, e.do("GET", "/api/v2/filters/123", modKey, nil), http.StatusNotFound, "FilterNotFound")
	wantRC(t, e.do("GET", "/api/v2/filters/minors-1", aliceKey, nil), http.StatusForbidden, "NotModerator")
	// GET /filters/regex: one expression a list.
	var regex []map[string]any
	e.do("GET", "/api/v2/filters/regex?filter_type=10", modKey, nil).json(t, &regex)
	if len(regex) != 1 || regex[0]["regex"] != "child|kid" || regex[0]["filter_type"] != float64(10) {
		t.Errorf("filters/regex?filter_type=10 = %v", regex)
	}
	wantRC(t, e.do("GET", "/api/v2/filters/regex", aliceKey, nil), http.StatusForbidden, "NotModerator")
	// The AI Horde's edits are 405: the lists are config terms.
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/api/v2/filters", "GET, POST"},
		{"PATCH", "/api/v2/filters/minors-1", "GET"},
		{"DELETE", "/api/v2/filters/minors-1", "GET"},
	} {
		r := e.do(tc.method, tc.path, modKey, map[string]any{"regex": "x", "filter_type": 10})
		m := wantError(t, r, http.StatusMethodNotAllowed, "config")
		if m["rc"] != "MethodNotAllowed" || r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: rc %v Allow %q, want MethodNotAllowed and %q", tc.method, tc.path, m["rc"], r.header.Get("Allow"), tc.allow)
		}
	}
	for _, tc := range []struct {
		prompt    string
		suspicion string
	}{
		{"a lighthouse at dusk", "0"},
		{"a nude woman", "1"},
	} {
		var out struct {
			Suspicion string
			Matches   []string
		}
		e.do("POST", "/api/v2/filters", modKey, map[string]any{"prompt": tc.prompt}).json(t, &out)
		if out.Suspicion != tc.suspicion {
			t.Errorf("suspicion of %q = %s, want %s (matches %v)", tc.prompt, out.Suspicion, tc.suspicion, out.Matches)
		}
	}
}
