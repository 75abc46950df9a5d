package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
)

func TestWorkersReadOnly(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	e.popImage(key, "gpu-1")
	r := e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1"))
	wantStatus(t, r, http.StatusOK)

	r = e.do("GET", "/api/v2/workers", "", nil)
	wantStatus(t, r, http.StatusOK)
	var all []map[string]any
	r.json(t, &all)
	if len(all) != 2 {
		t.Fatalf("workers = %s, want 2", r.body)
	}
	lower := strings.ToLower(string(r.body))
	for _, secret := range []string{key, "apikey", "127.0.0.1", "blacklist", "prompt"} {
		if strings.Contains(lower, strings.ToLower(secret)) {
			t.Errorf("worker list leaks %q: %s", secret, r.body)
		}
	}
	var gpu map[string]any
	for _, w := range all {
		if w["name"] == "gpu-1" {
			gpu = w
		}
	}
	if gpu == nil {
		t.Fatalf("gpu-1 not listed: %s", r.body)
	}
	for _, f := range []string{"name", "id", "type", "online", "performance", "requests_fulfilled", "kudos_rewards", "uptime", "maintenance_mode", "paused", "nsfw", "trusted", "models", "max_pixels", "threads", "bridge_agent", "info"} {
		if _, ok := gpu[f]; !ok {
			t.Errorf("worker lacks %q: %v", f, gpu)
		}
	}
	if gpu["type"] != "image" || gpu["online"] != true || gpu["max_pixels"].(float64) != 1024*1024 {
		t.Errorf("gpu-1 = %v", gpu)
	}
	id := gpu["id"].(string)

	tests := []struct {
		name   string
		path   string
		status int
		count  int // for lists
	}{
		{"by id", "/api/v2/workers/" + id, http.StatusOK, -1},
		{"by name", "/api/v2/workers/name/gpu-1", http.StatusOK, -1},
		{"unknown id", "/api/v2/workers/00000000-0000-0000-0000-000000000000", http.StatusNotFound, -1},
		{"unknown name", "/api/v2/workers/name/nobody", http.StatusNotFound, -1},
		{"only text workers", "/api/v2/workers?type=text", http.StatusOK, 1},
		{"only image workers", "/api/v2/workers?type=image", http.StatusOK, 1},
		{"bad type", "/api/v2/workers?type=audio", http.StatusBadRequest, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", tt.path, "", nil)
			if tt.status != http.StatusOK {
				wantError(t, r, tt.status, "")
				return
			}
			wantStatus(t, r, http.StatusOK)
			if tt.count >= 0 {
				var ws []map[string]any
				r.json(t, &ws)
				if len(ws) != tt.count {
					t.Errorf("got %d workers, want %d", len(ws), tt.count)
				}
				return
			}
			if got := r.object(t)["name"]; got != "gpu-1" {
				t.Errorf("name = %v", got)
			}
		})
	}
}

func TestWorkerUpdateAndDelete(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	_, strangerKey := e.user("stranger")
	mod, modKey := e.user("mod")
	mod.Moderator = true
	if err := e.st.UpdateUser(context.Background(), mod); err != nil {
		t.Fatalf("make moderator: %v", err)
	}
	e.popImage(key, "gpu-1")
	wk, err := e.h.WorkerByName(context.Background(), "gpu-1")
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	path := "/api/v2/workers/" + wk.ID

	tests := []struct {
		name   string
		key    string
		body   any
		status int
	}{
		{"stranger may not set maintenance", strangerKey, map[string]any{"maintenance": true}, http.StatusForbidden},
		{"unknown key", "bad-key", map[string]any{"maintenance": true}, http.StatusUnauthorized},
		{"anonymous", "", map[string]any{"maintenance": true}, http.StatusForbidden},
		{"owner may not pause", key, map[string]any{"paused": true}, http.StatusForbidden},
		{"wrong type", key, map[string]any{"maintenance": "yes"}, http.StatusBadRequest},
		{"nothing to change", key, map[string]any{}, http.StatusBadRequest},
		{"owner sets maintenance and info", key, map[string]any{"maintenance": true, "info": "RTX 4090"}, http.StatusOK},
		{"moderator pauses", modKey, map[string]any{"paused": true}, http.StatusOK},
		{"owner renames", key, map[string]any{"name": "gpu-renamed"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", path, tt.key, tt.body)
			if tt.status != http.StatusOK {
				wantError(t, r, tt.status, "")
				return
			}
			wantStatus(t, r, http.StatusOK)
		})
	}
	got := e.do("GET", path, "", nil).object(t)
	if got["maintenance_mode"] != true || got["paused"] != true || got["info"] != "RTX 4090" || got["name"] != "gpu-renamed" {
		t.Errorf("after updates: %v", got)
	}
	t.Run("unknown worker is 404", func(t *testing.T) {
		wantError(t, e.do("PUT", "/api/v2/workers/nope", key, map[string]any{"maintenance": false}), http.StatusNotFound, "")
	})
	t.Run("stranger may not delete", func(t *testing.T) {
		wantError(t, e.do("DELETE", path, strangerKey, nil), http.StatusForbidden, "")
	})
	t.Run("owner deletes", func(t *testing.T) {
		r := e.do("DELETE", path, key, nil)
		wantStatus(t, r, http.StatusOK)
		if m := r.object(t); m["deleted_id"] != wk.ID || m["deleted_name"] != "gpu-renamed" {
			t.Errorf("delete answered %s", r.body)
		}
		wantError(t, e.do("GET", path, "", nil), http.StatusNotFound, "")
	})
}

func TestWorkerKeyActsOnlyAsItsWorker(t *testing.T) {
	e := newEnv(t, api.Options{})
	owner, _ := e.user("owner")
	wk, wkey, err := e.h.RegisterWorker(context.Background(), owner, "registered", horde.KindImage)
	if err != nil {
		t.Fatalf("register worker: %v", err)
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/pop", wkey, imagePop(wk.Name, nil)), http.StatusOK)
	wantError(t, e.do("POST", "/api/v2/generate/pop", wkey, imagePop("another-name", nil)), http.StatusForbidden, "")
	wantError(t, e.do("POST", "/api/v2/generate/async", wkey, imageRequest(nil)), http.StatusForbidden, "")
	wantStatus(t, e.do("PUT", "/api/v2/workers/"+wk.ID, wkey, map[string]any{"info": "mine"}), http.StatusOK)
}

// TestPopCreatesAtMostThreeUntrustedWorkers: a first pop under a new name
// creates a worker, but not past the owner's limit: the 4th worker of an
// untrusted owner is a 403 TooManyWorkers, as the AI Horde answers.
func TestPopCreatesAtMostThreeUntrustedWorkers(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("farmer")
	for _, name := range []string{"farm-1", "farm-2", "farm-3"} {
		e.popImage(key, name)
	}
	m := wantError(t, e.do("POST", "/api/v2/generate/pop", key, imagePop("farm-4", nil)), http.StatusForbidden, "")
	if m["rc"] != "TooManyWorkers" {
		t.Fatalf("rc = %v, want TooManyWorkers", m["rc"])
	}
	e.popImage(key, "farm-1") // the existing workers still pop
	r := e.do("GET", "/api/v2/workers", "", nil)
	wantStatus(t, r, http.StatusOK)
	var ws []map[string]any
	r.json(t, &ws)
	if len(ws) != 3 {
		t.Fatalf("%d workers listed, want 3", len(ws))
	}
}
