package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// teamEnv is an API with teams and modes.
func teamEnv(t *testing.T) *env {
	return newEnvWith(t, nil, func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options {
		modes, err := horde.NewModes(context.Background(), st)
		if err != nil {
			t.Fatalf("modes: %v", err)
		}
		return api.Options{Teams: horde.NewTeams(h, st), Modes: modes}
	})
}

// trusted creates a trusted user, as a moderator's PUT /users trusted does.
func (e *env) trusted(name string) (horde.User, string) {
	e.t.Helper()
	u, key := e.user(name)
	u.Trusted = true
	if err := e.st.UpdateUser(context.Background(), u); err != nil {
		e.t.Fatalf("trust %s: %v", name, err)
	}
	return u, key
}

type teamDetails struct {
	ID                string
	Name              string
	Info              *string
	Creator           string
	WorkerCount       int `json:"worker_count"`
	RequestsFulfilled int `json:"requests_fulfilled"`
	Workers           []struct {
		ID, Name, Type string
		Online         bool
	}
	Models []struct {
		Name  string
		Count int
	}
}

// createTeam founds a team as key and returns its id.
func (e *env) createTeam(key, name string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v2/teams", key, map[string]any{"name": name, "info": "we render"})
	wantStatus(e.t, r, http.StatusOK)
	var out struct{ ID, Name, Info string }
	r.json(e.t, &out)
	if out.ID == "" || out.Name != name || out.Info != "we render" {
		e.t.Fatalf("created team = %+v", out)
	}
	return out.ID
}

func TestTeamCreate(t *testing.T) {
	e := teamEnv(t)
	_, untrustedKey := e.user("plain")
	_, trustedKey := e.trusted("founder")
	_, modKey := e.moderator("mod")
	e.createTeam(trustedKey, "Night Owls")

	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		rc     string
		field  string
	}{
		{"the anonymous key may not", "", map[string]any{"name": "anon team"}, http.StatusForbidden, "AnonForbidden", ""},
		{"an unknown key is 401", "no-such-key-here", map[string]any{"name": "x"}, http.StatusUnauthorized, "InvalidAPIKey", ""},
		{"an untrusted user may not", untrustedKey, map[string]any{"name": "mine"}, http.StatusForbidden, "NotTrusted", ""},
		{"no name names name", trustedKey, map[string]any{"info": "x"}, http.StatusBadRequest, "BadRequest", "name"},
		{"a blank name names name", trustedKey, map[string]any{"name": "   "}, http.StatusBadRequest, "BadRequest", "name"},
		{"a long name names name", trustedKey, map[string]any{"name": strings.Repeat("n", horde.MaxTeamName+1)}, http.StatusBadRequest, "BadRequest", "name"},
		{"a long info names info", trustedKey, map[string]any{"name": "ok", "info": strings.Repeat("i", horde.MaxTeamInfo+1)}, http.StatusBadRequest, "BadRequest", "info"},
		{"a name of the wrong type", trustedKey, map[string]any{"name": 5}, http.StatusBadRequest, "", "name"},
		{"a name taken in another case", modKey, map[string]any{"name": "night owls"}, http.StatusBadRequest, "NameAlreadyExists", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := wantError(t, e.do("POST", "/api/v2/teams", tc.key, tc.body), tc.status, tc.field)
			if tc.rc != "" && m["rc"] != tc.rc {
				t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
			}
		})
	}
	t.Run("a moderator may", func(t *testing.T) {
		e.createTeam(modKey, "Mods")
	})
	var all []teamDetails
	r := e.do("GET", "/api/v2/teams", "", nil)
	wantStatus(t, r, http.StatusOK)
	r.json(t, &all)
	if len(all) != 2 || all[0].Name != "Mods" || all[1].Name != "Night Owls" {
		t.Errorf("GET /teams = %+v, want Mods and Night Owls", all)
	}
}

func TestTeamEditAndDelete(t *testing.T) {
	e := teamEnv(t)
	owner, ownerKey := e.trusted("founder")
	_, otherKey := e.trusted("other")
	_, modKey := e.moderator("mod")
	id := e.createTeam(ownerKey, "Night Owls")
	e.createTeam(otherKey, "Early Birds")
	path := "/api/v2/teams/" + id
	unknown := "/api/v2/teams/0bed257b-e57c-4327-ac64-40cdfb1ac5e6"

	for _, tc := range []struct {
		name   string
		method string
		path   string
		key    string
		body   any
		status int
		rc     string
		want   map[string]any
	}{
		{"another user may not edit", "PATCH", path, otherKey, map[string]any{"info": "ours now"}, http.StatusForbidden, "NotOwner", nil},
		{"the anonymous key may not edit", "PATCH", path, "", map[string]any{"info": "x"}, http.StatusForbidden, "NotOwner", nil},
		{"nothing to change", "PATCH", path, ownerKey, map[string]any{}, http.StatusBadRequest, "NoValidActions", nil},
		{"a taken name", "PATCH", path, ownerKey, map[string]any{"name": "EARLY BIRDS"}, http.StatusBadRequest, "NameAlreadyExists", nil},
		{"an unknown team to edit", "PATCH", unknown, modKey, map[string]any{"info": "x"}, http.StatusNotFound, "TeamNotFound", nil},
		{"the owner edits info", "PATCH", path, ownerKey, map[string]any{"info": "we render at night"}, http.StatusOK, "", map[string]any{"id": id, "info": "we render at night"}},
		{"a moderator renames", "PATCH", path, modKey, map[string]any{"name": "Night Owls 2"}, http.StatusOK, "", map[string]any{"id": id, "name": "Night Owls 2"}},
		{"an unknown team to read", "GET", unknown, "", nil, http.StatusNotFound, "TeamNotFound", nil},
		{"another user may not delete", "DELETE", path, otherKey, nil, http.StatusForbidden, "NotOwner", nil},
		{"an unknown team to delete", "DELETE", unknown, ownerKey, nil, http.StatusNotFound, "TeamNotFound", nil},
		{"the owner deletes", "DELETE", path, ownerKey, nil, http.StatusOK, "", map[string]any{"deleted_id": id, "deleted_name": "Night Owls 2"}},
		{"deleted, it is gone", "GET", path, "", nil, http.StatusNotFound, "TeamNotFound", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.key, tc.body)
			if tc.status != http.StatusOK {
				if m := wantError(t, r, tc.status, ""); m["rc"] != tc.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
				}
				return
			}
			wantStatus(t, r, http.StatusOK)
			got := r.object(t)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (answer %s)", k, got[k], v, r.body)
				}
			}
		})
		if tc.name == "a moderator renames" {
			var d teamDetails
			e.do("GET", path, "", nil).json(t, &d)
			if d.Name != "Night Owls 2" || d.Info == nil || *d.Info != "we render at night" || d.Creator != fmt.Sprintf("founder#%d", owner.ID) {
				t.Errorf("after edits GET = %+v", d)
			}
		}
	}
}

func TestWorkerJoinsTeam(t *testing.T) {
	e := teamEnv(t)
	_, ownerKey := e.trusted("owner")
	_, otherKey := e.user("other")
	id := e.createTeam(ownerKey, "Night Owls")
	e.popImage(ownerKey, "gpu-1")
	wk, err := e.h.WorkerByName(context.Background(), "gpu-1")
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	path := "/api/v2/workers/" + wk.ID
	members := func() teamDetails {
		t.Helper()
		var d teamDetails
		r := e.do("GET", "/api/v2/teams/"+id, "", nil)
		wantStatus(t, r, http.StatusOK)
		r.json(t, &d)
		return d
	}

	for _, tc := range []struct {
		name    string
		key     string
		body    any
		status  int
		rc      string
		team    string // the answer's team
		members int
	}{
		{"another user may not", otherKey, map[string]any{"team": id}, http.StatusForbidden, "", "", 0},
		{"an unknown team changes nothing", ownerKey, map[string]any{"team": "0bed257b-e57c-4327-ac64-40cdfb1ac5e6", "info": "changed?"}, http.StatusNotFound, "TeamNotFound", "", 0},
		{"the owner joins", ownerKey, map[string]any{"team": id}, http.StatusOK, "", "Night Owls", 1},
		{"joining again is the same", ownerKey, map[string]any{"team": id}, http.StatusOK, "", "Night Owls", 1},
		{"team empty leaves it", ownerKey, map[string]any{"team": ""}, http.StatusOK, "", "None", 0},
		{"and joins back", ownerKey, map[string]any{"team": id}, http.StatusOK, "", "Night Owls", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", path, tc.key, tc.body)
			if tc.status != http.StatusOK {
				if m := wantError(t, r, tc.status, ""); tc.rc != "" && m["rc"] != tc.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
				}
			} else {
				wantStatus(t, r, http.StatusOK)
				if got := r.object(t)["team"]; got != tc.team {
					t.Errorf("team = %v, want %s", got, tc.team)
				}
			}
			if d := members(); d.WorkerCount != tc.members || len(d.Workers) != tc.members {
				t.Errorf("team has %d workers (%d listed), want %d", d.WorkerCount, len(d.Workers), tc.members)
			}
		})
	}
	w, _ := e.h.Worker(context.Background(), wk.ID)
	if w.Info == "changed?" {
		t.Errorf("a refused team change still set the info")
	}
	d := members()
	if len(d.Workers) != 1 || d.Workers[0].ID != wk.ID || d.Workers[0].Name != "gpu-1" || !d.Workers[0].Online || d.Workers[0].Type != "image" ||
		len(d.Models) != 1 || d.Models[0].Name != "stable_diffusion" || d.Models[0].Count != 1 {
		t.Errorf("team details = %+v", d)
	}
	t.Run("deleting the team leaves the worker in none", func(t *testing.T) {
		wantStatus(t, e.do("DELETE", "/api/v2/teams/"+id, ownerKey, nil), http.StatusOK)
		id = e.createTeam(ownerKey, "Night Owls")
		if d := members(); d.WorkerCount != 0 {
			t.Errorf("a new team of the same name has %d workers", d.WorkerCount)
		}
	})
}

func TestTeamsDisabled(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	wantRC(t, e.do("GET", "/api/v2/teams", "", nil), http.StatusForbidden, "FeatureDisabled")
	wantRC(t, e.do("PUT", "/api/v2/status/modes", key, map[string]any{"maintenance": true}), http.StatusForbidden, "FeatureDisabled")
}

func TestSetStatusModes(t *testing.T) {
	e := teamEnv(t)
	_, userKey := e.user("plain")
	_, modKey := e.moderator("mod")
	modes := func(key string) map[string]any {
		t.Helper()
		r := e.do("GET", "/api/v2/status/modes", key, nil)
		wantStatus(t, r, http.StatusOK)
		return r.object(t)
	}

	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		rc     string
		want   map[string]any
	}{
		{"a user may not", userKey, map[string]any{"maintenance": true}, http.StatusForbidden, "NotModerator", nil},
		{"an unknown key is 401", "no-such-key-here", map[string]any{"maintenance": true}, http.StatusUnauthorized, "InvalidAPIKey", nil},
		{"nothing to change", modKey, map[string]any{}, http.StatusBadRequest, "NoValidActions", nil},
		{"a mode of the wrong type", modKey, map[string]any{"raid": "on"}, http.StatusBadRequest, "", nil},
		{"a moderator sets maintenance", modKey, map[string]any{"maintenance": true}, http.StatusOK, "",
			map[string]any{"maintenance_mode": true, "invite_only_mode": false, "raid_mode": false}},
		{"and invite-only and raid, keeping maintenance", modKey, map[string]any{"invite_only": true, "raid": true}, http.StatusOK, "",
			map[string]any{"maintenance_mode": true, "invite_only_mode": true, "raid_mode": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", "/api/v2/status/modes", tc.key, tc.body)
			if tc.status != http.StatusOK {
				if m := wantError(t, r, tc.status, ""); tc.rc != "" && m["rc"] != tc.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
				}
				return
			}
			wantStatus(t, r, http.StatusOK)
			got := r.object(t)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
	if m := modes(""); m["maintenance_mode"] != true || m["invite_only_mode"] != true || m["raid_mode"] != nil {
		t.Errorf("GET /status/modes without a key = %v", m)
	}
	if m := modes(modKey); m["raid_mode"] != true {
		t.Errorf("a moderator's GET /status/modes = %v", m)
	}

	t.Run("maintenance refuses new requests 503 MaintenanceMode", func(t *testing.T) {
		wantRC(t, e.do("POST", "/api/v2/generate/async", userKey, imageRequest(nil)), http.StatusServiceUnavailable, "MaintenanceMode")
		wantRC(t, e.do("POST", "/api/v2/generate/text/async", userKey, map[string]any{"prompt": "once upon a time"}), http.StatusServiceUnavailable, "MaintenanceMode")
	})
	t.Run("workers still pop in maintenance", func(t *testing.T) {
		e.popImage(userKey, "gpu-1")
	})
	t.Run("maintenance off, requests are taken again", func(t *testing.T) {
		wantStatus(t, e.do("PUT", "/api/v2/status/modes", modKey, map[string]any{"maintenance": false}), http.StatusOK)
		e.asyncImage(userKey, nil)
	})
	t.Run("the modes outlive a restart", func(t *testing.T) {
		m, err := horde.NewModes(context.Background(), e.st)
		if err != nil {
			t.Fatalf("modes: %v", err)
		}
		if got := m.Current(); got != (horde.HordeModes{Maintenance: false, InviteOnly: true, Raid: true}) {
			t.Errorf("modes reloaded = %+v", got)
		}
	})
}
