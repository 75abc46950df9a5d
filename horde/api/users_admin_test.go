package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
)

// moderator creates a user and makes them a moderator, as `hordebot user
// set NAME --moderator` does.
func (e *env) moderator(name string) (horde.User, string) {
	e.t.Helper()
	u, key := e.user(name)
	yes := true
	if _, err := e.h.ModifyUser(context.Background(), horde.Operator, u.ID, horde.UserChange{Moderator: &yes}, ""); err != nil {
		e.t.Fatalf("make %s a moderator: %v", name, err)
	}
	u.Moderator = true
	return u, key
}

func TestListUsers(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	rich, _ := e.user("rich")
	_, _ = e.user("poor")
	r := e.do("PUT", fmt.Sprintf("/api/v2/users/%d", rich.ID), modKey, map[string]any{"kudos": 500})
	wantStatus(t, r, http.StatusOK)
	for i := 0; i < 30; i++ {
		e.user(fmt.Sprintf("filler-%02d", i))
	}

	type user struct {
		Username string `json:"username"`
		Kudos    int64  `json:"kudos"`
	}
	tests := []struct {
		name      string
		query     string
		status    int
		field     string
		wantFirst string
		wantLen   int
	}{
		{"by kudos: the richest first", "", http.StatusOK, "", fmt.Sprintf("rich#%d", rich.ID), 25},
		{"by age: the anonymous user first", "?sort=age", http.StatusOK, "", "Anonymous#0", 25},
		{"page 2 holds the rest", "?page=2&sort=age", http.StatusOK, "", "", 34 - 25},
		{"page 0 is page 1", "?page=0", http.StatusOK, "", fmt.Sprintf("rich#%d", rich.ID), 25},
		{"past the end is empty", "?page=3", http.StatusOK, "", "", 0},
		{"a page that is not a number", "?page=two", http.StatusBadRequest, "page", "", 0},
		{"an unknown sort", "?sort=name", http.StatusBadRequest, "sort", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/api/v2/users"+tt.query, "", nil)
			if tt.status != http.StatusOK {
				wantError(t, r, tt.status, tt.field)
				return
			}
			wantStatus(t, r, http.StatusOK)
			var us []user
			r.json(t, &us)
			if len(us) != tt.wantLen {
				t.Fatalf("got %d users, want %d: %s", len(us), tt.wantLen, r.body)
			}
			if tt.wantFirst != "" && us[0].Username != tt.wantFirst {
				t.Errorf("first user = %q, want %q", us[0].Username, tt.wantFirst)
			}
		})
	}
}

func TestModifyUser(t *testing.T) {
	e := newEnv(t, api.Options{})
	mod, modKey := e.moderator("mod")
	alice, aliceKey := e.user("alice")
	_, bobKey := e.user("bob")
	path := fmt.Sprintf("/api/v2/users/%d", alice.ID)

	tests := []struct {
		name   string
		path   string
		key    string
		body   any
		status int
		rc     string
		field  string // named in the message
		want   map[string]any
	}{
		{"moderator adds kudos", path, modKey, map[string]any{"kudos": 250}, http.StatusOK, "", "", map[string]any{"new_kudos": 250.0}},
		{"moderator takes kudos", path, modKey, map[string]any{"kudos": -50}, http.StatusOK, "", "", map[string]any{"new_kudos": 200.0}},
		{"moderator sets concurrency", path, modKey, map[string]any{"concurrency": 2}, http.StatusOK, "", "", map[string]any{"concurrency": 2.0}},
		{"moderator trusts and flags", path, modKey, map[string]any{"trusted": true, "flagged": false}, http.StatusOK, "", "",
			map[string]any{"trusted": true, "flagged": false}},
		{"moderator makes a moderator", path, modKey, map[string]any{"moderator": true}, http.StatusOK, "", "", map[string]any{"moderator": true}},
		{"moderator takes it back", path, modKey, map[string]any{"moderator": false}, http.StatusOK, "", "", map[string]any{"moderator": false}},
		{"moderator resets suspicion", path, modKey, map[string]any{"reset_suspicion": true}, http.StatusOK, "", "", map[string]any{"new_suspicion": 0.0}},
		{"a user renames themself", path, aliceKey, map[string]any{"username": "alicia"}, http.StatusOK, "", "",
			map[string]any{"username": fmt.Sprintf("alicia#%d", alice.ID)}},
		{"a user may not give themself kudos", path, aliceKey, map[string]any{"kudos": 1000}, http.StatusForbidden, "NotModerator", "kudos", nil},
		{"a user may not make themself a moderator", path, aliceKey, map[string]any{"moderator": true}, http.StatusForbidden, "NotModerator", "moderator", nil},
		{"a user may not rename another", path, bobKey, map[string]any{"username": "mallory"}, http.StatusForbidden, "NotModerator", "", nil},
		{"the anonymous user may change nothing", path, "0000000000", map[string]any{"username": "anon"}, http.StatusForbidden, "AnonForbiddenUserMod", "", nil},
		{"an unknown key", path, "not-a-key", map[string]any{"kudos": 5}, http.StatusUnauthorized, "InvalidAPIKey", "", nil},
		{"an unknown user", "/api/v2/users/999999", modKey, map[string]any{"kudos": 5}, http.StatusNotFound, "UserNotFound", "", nil},
		{"a user id that is not a number", "/api/v2/users/alice", modKey, map[string]any{"kudos": 5}, http.StatusNotFound, "UserNotFound", "", nil},
		{"nothing to change", path, modKey, map[string]any{}, http.StatusBadRequest, "NoUserModSelected", "", nil},
		{"kudos that are not whole", path, modKey, map[string]any{"kudos": 2.5}, http.StatusBadRequest, "", "kudos", nil},
		{"kudos zero", path, modKey, map[string]any{"kudos": 0}, http.StatusBadRequest, "", "kudos", nil},
		{"concurrency over 500", path, modKey, map[string]any{"concurrency": 501}, http.StatusBadRequest, "", "concurrency", nil},
		{"concurrency as a string", path, modKey, map[string]any{"concurrency": "many"}, http.StatusBadRequest, "", "concurrency", nil},
		{"an empty username", path, modKey, map[string]any{"username": "  "}, http.StatusBadRequest, "", "", nil},
		{"a field this horde has no meaning for", path, modKey, map[string]any{"kudos": 10, "vpn": true}, http.StatusBadRequest, "BadRequest", "vpn", nil},
		{"usage_multiplier is refused", path, modKey, map[string]any{"usage_multiplier": 2}, http.StatusBadRequest, "BadRequest", "usage_multiplier", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", tt.path, tt.key, tt.body)
			if tt.status != http.StatusOK {
				m := wantError(t, r, tt.status, tt.field)
				if tt.rc != "" && m["rc"] != tt.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tt.rc)
				}
				return
			}
			wantStatus(t, r, http.StatusOK)
			got := r.object(t)
			if len(got) != len(tt.want) {
				t.Errorf("answer %s, want exactly the fields %v", r.body, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (answer %s)", k, got[k], v, r.body)
				}
			}
		})
	}

	// What the refused requests did not change, and what the others did,
	// as find_user shows it to alice.
	var me struct {
		Username    string `json:"username"`
		Kudos       int64  `json:"kudos"`
		Concurrency int    `json:"concurrency"`
		Trusted     bool   `json:"trusted"`
		Moderator   bool   `json:"moderator"`
	}
	wantStatus(t, e.do("GET", "/api/v2/find_user", aliceKey, nil), http.StatusOK)
	e.do("GET", "/api/v2/find_user", aliceKey, nil).json(t, &me)
	if me.Kudos != 200 || me.Concurrency != 2 || !me.Trusted || me.Moderator || me.Username != fmt.Sprintf("alicia#%d", alice.ID) {
		t.Errorf("alice after the changes = %+v, want 200 kudos, concurrency 2, trusted, no moderator, renamed", me)
	}
	hist, err := e.st.History(context.Background(), alice.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hist {
		if h.Kind != "admin" || h.ActorID != mod.ID {
			t.Errorf("ledger entry %+v, want kind admin by the moderator %d", h, mod.ID)
		}
	}
	if len(hist) != 2 {
		t.Errorf("alice has %d ledger entries, want the 2 adjustments", len(hist))
	}
}

// TestModifyUserKudosIdempotent: a PUT retried with the same
// Idempotency-Key adds the kudos once.
func TestModifyUserKudosIdempotent(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	alice, _ := e.user("alice")
	path := fmt.Sprintf("/api/v2/users/%d", alice.ID)
	for i := 0; i < 2; i++ {
		r := e.do("PUT", path, modKey, map[string]any{"kudos": 100}, "Idempotency-Key", "grant-1")
		wantStatus(t, r, http.StatusOK)
		if got := r.object(t)["new_kudos"]; got != 100.0 {
			t.Errorf("try %d: new_kudos = %v, want 100", i+1, got)
		}
	}
	r := e.do("PUT", path, modKey, map[string]any{"kudos": 100}, "Idempotency-Key", "grant-2")
	if got := r.object(t)["new_kudos"]; got != 200.0 {
		t.Errorf("another key: new_kudos = %v, want 200", got)
	}
}

// TestConcurrencyOverrideCapsRequests: a moderator's concurrency override
// is the user's cap on open items (429 TooManyPrompts past it), and it
// survives a restart of the horde.
func TestConcurrencyOverrideCapsRequests(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	alice, aliceKey := e.user("alice")
	wantStatus(t, e.do("PUT", fmt.Sprintf("/api/v2/users/%d", alice.ID), modKey, map[string]any{"concurrency": 1}), http.StatusOK)

	e.asyncImage(aliceKey, nil)
	m := wantError(t, e.do("POST", "/api/v2/generate/async", aliceKey, imageRequest(nil)), http.StatusTooManyRequests, "at most 1")
	if m["rc"] != "TooManyPrompts" {
		t.Errorf("rc = %v, want TooManyPrompts", m["rc"])
	}

	h2, err := horde.New(context.Background(), e.st, horde.Config{Clock: e.clock, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	info, err := h2.UserInfo(context.Background(), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Concurrency != 1 {
		t.Errorf("after a restart concurrency = %d, want the override 1", info.Concurrency)
	}
}

// TestModeratorFromTheDatabaseActs: a user made a moderator (as `hordebot
// user set --moderator` does) may pause workers over the API at once; the
// key's cached credential does not keep the old status.
func TestModeratorFromTheDatabaseActs(t *testing.T) {
	e := newEnv(t, api.Options{})
	u, key := e.user("cleo")
	_, ownerKey := e.user("owner")
	pop := e.do("POST", "/api/v2/generate/pop", ownerKey, imagePop("owner-gpu", nil))
	wantStatus(t, pop, http.StatusOK)
	wk, err := e.h.WorkerByName(context.Background(), "owner-gpu")
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v2/workers/" + wk.ID
	wantError(t, e.do("PUT", path, key, map[string]any{"paused": true}), http.StatusForbidden, "")
	yes := true
	if _, err := e.h.ModifyUser(context.Background(), horde.Operator, u.ID, horde.UserChange{Moderator: &yes}, ""); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.do("PUT", path, key, map[string]any{"paused": true}), http.StatusOK)
}
