package api_test

import (
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/api"

	"github.com/hordebot/hordebot/store/storetest"
)

func TestStatusEndpoints(t *testing.T) {
	e := newEnv(t, api.Options{Version: "1.2.3"})
	_, key := e.user("owner")
	e.popImage(key, "gpu-1")
	e.asyncImage("", map[string]any{"models": []string{"stable_diffusion"}})
	storetest.SweepEstimates(t, e.h) // the queue counts, on the shared queue

	t.Run("heartbeat", func(t *testing.T) {
		r := e.do("GET", "/api/v2/status/heartbeat", "", nil)
		wantStatus(t, r, http.StatusOK)
		if m := r.object(t); m["message"] != "OK" || m["version"] != "1.2.3" {
			t.Errorf("heartbeat = %s", r.body)
		}
	})
	t.Run("image models", func(t *testing.T) {
		r := e.do("GET", "/api/v2/status/models?type=image", "", nil)
		wantStatus(t, r, http.StatusOK)
		var ms []map[string]any
		r.json(t, &ms)
		if len(ms) != 1 {
			t.Fatalf("models = %s, want stable_diffusion only", r.body)
		}
		m := ms[0]
		for _, f := range []string{"name", "count", "performance", "queued", "jobs", "eta", "type"} {
			if _, ok := m[f]; !ok {
				t.Errorf("model lacks %q: %v", f, m)
			}
		}
		if m["name"] != "stable_diffusion" || m["count"] != 1.0 || m["type"] != "image" || m["jobs"] != 1.0 {
			t.Errorf("model = %v", m)
		}
	})
	t.Run("text models are empty", func(t *testing.T) {
		r := e.do("GET", "/api/v2/status/models?type=text", "", nil)
		wantStatus(t, r, http.StatusOK)
		if string(r.body) != "[]\n" {
			t.Errorf("text models = %s, want []", r.body)
		}
	})
	t.Run("bad type", func(t *testing.T) {
		wantError(t, e.do("GET", "/api/v2/status/models?type=video", "", nil), http.StatusBadRequest, "type")
	})
	t.Run("performance", func(t *testing.T) {
		r := e.do("GET", "/api/v2/status/performance", "", nil)
		wantStatus(t, r, http.StatusOK)
		m := r.object(t)
		if m["queued_requests"] != 1.0 || m["worker_count"] != 1.0 {
			t.Errorf("performance = %s", r.body)
		}
		for _, f := range []string{"queued_megapixelsteps", "past_minute_megapixelsteps", "queued_text_requests", "text_worker_count", "thread_count", "queued_tokens"} {
			if _, ok := m[f]; !ok {
				t.Errorf("performance lacks %q", f)
			}
		}
	})
}
