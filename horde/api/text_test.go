package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
)

func textRequest(extra map[string]any) map[string]any {
	body := map[string]any{
		"prompt": "Once upon a time,",
		"params": map[string]any{"max_length": 64, "max_context_length": 1024, "n": 1, "temperature": 0.7},
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

func textPop(name string) map[string]any {
	return map[string]any{
		"name": name, "models": []string{"koboldcpp/tiny"}, "max_length": 512, "max_context_length": 2048,
		"priority_usernames": []string{}, "softprompts": []string{}, "bridge_agent": "KoboldCppEmbedWorker:1.80.3:https://github.com/LostRuins/koboldcpp",
	}
}

func TestTextAsyncValidation(t *testing.T) {
	e := newEnv(t, api.Options{})
	p := func(k string, v any) map[string]any {
		return textRequest(map[string]any{"params": map[string]any{k: v}})
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"queued", textRequest(nil), http.StatusAccepted, ""},
		{"max_length 15", p("max_length", 15), http.StatusBadRequest, "params.max_length"},
		{"max_length 4097", p("max_length", 4097), http.StatusBadRequest, "params.max_length"},
		{"max_length as a float", p("max_length", 64.5), http.StatusBadRequest, "params.max_length"},
		{"max_context_length 10", p("max_context_length", 10), http.StatusBadRequest, "params.max_context_length"},
		{"temperature as a string", p("temperature", "hot"), http.StatusBadRequest, "params.temperature"},
		{"n 21", p("n", 21), http.StatusBadRequest, "params.n"},
		{"empty prompt", map[string]any{"prompt": ""}, http.StatusBadRequest, "prompt"},
		{"prompt over 10000 characters", map[string]any{"prompt": strings.Repeat("a", 10001)}, http.StatusBadRequest, "prompt"},
		{"softprompt as a number", textRequest(map[string]any{"softprompt": 3}), http.StatusBadRequest, "softprompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/generate/text/async", "", tt.body)
			if tt.status != http.StatusAccepted {
				wantError(t, r, tt.status, tt.field)
				return
			}
			wantStatus(t, r, http.StatusAccepted)
		})
	}
}

func TestTextRoundTrip(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("kobold-owner")

	r := e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1"))
	wantStatus(t, r, http.StatusOK)
	idle := r.object(t)
	if v, ok := idle["softprompt"]; !ok || v != nil {
		t.Errorf("idle pop softprompt = %v (present %v), want null", v, ok)
	}
	if v, ok := idle["id"]; !ok || v != nil {
		t.Errorf("idle pop id = %v, want null", v)
	}

	r = e.do("POST", "/api/v2/generate/text/async", "", textRequest(nil))
	wantStatus(t, r, http.StatusAccepted)
	reqID := r.object(t)["id"].(string)

	t.Run("image routes do not know text ids", func(t *testing.T) {
		wantError(t, e.do("GET", "/api/v2/generate/status/"+reqID, "", nil), http.StatusNotFound, "")
	})

	r = e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1"))
	wantStatus(t, r, http.StatusOK)
	var pop struct {
		ID         *string
		IDs        []string
		Model      string
		Softprompt *string
		TTL        int
		Skipped    map[string]int
		Payload    struct {
			Prompt           string
			N                int
			MaxLength        int `json:"max_length"`
			MaxContextLength int `json:"max_context_length"`
		}
	}
	r.json(t, &pop)
	if pop.ID == nil || len(pop.IDs) != 1 || pop.IDs[0] != *pop.ID {
		t.Fatalf("pop = %s", r.body)
	}
	if pop.Payload.Prompt != "Once upon a time," || pop.Payload.MaxLength != 64 || pop.Payload.MaxContextLength != 1024 || pop.Payload.N != 1 {
		t.Errorf("payload = %+v", pop.Payload)
	}
	if pop.TTL <= 0 {
		t.Errorf("ttl = %d", pop.TTL)
	}

	r = e.do("POST", "/api/v2/generate/text/submit", key, map[string]any{"id": *pop.ID, "generation": " there was a bot.", "state": "ok"})
	wantStatus(t, r, http.StatusOK)
	wantError(t, e.do("POST", "/api/v2/generate/text/submit", key, map[string]any{"id": *pop.ID, "generation": "again"}), http.StatusBadRequest, "")

	r = e.do("GET", "/api/v2/generate/text/status/"+reqID, "", nil)
	wantStatus(t, r, http.StatusOK)
	var st struct {
		Done        bool
		Generations []struct {
			Text       string
			Seed       int64
			WorkerID   string `json:"worker_id"`
			WorkerName string `json:"worker_name"`
			Model      string
			State      string
		}
	}
	r.json(t, &st)
	if !st.Done || len(st.Generations) != 1 {
		t.Fatalf("status = %s", r.body)
	}
	g := st.Generations[0]
	if g.Text != " there was a bot." || g.WorkerName != "kobold-1" || g.WorkerID == "" || g.State != "ok" {
		t.Errorf("generation = %+v", g)
	}
}

func TestTextCancel(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("POST", "/api/v2/generate/text/async", "", textRequest(nil))
	id := r.object(t)["id"].(string)
	wantError(t, e.do("DELETE", "/api/v2/generate/status/"+id, "", nil), http.StatusNotFound, "")
	r = e.do("DELETE", "/api/v2/generate/text/status/"+id, "", nil)
	wantStatus(t, r, http.StatusOK)
	if done, _ := e.do("GET", "/api/v2/generate/text/status/"+id, "", nil).object(t)["done"].(bool); !done {
		t.Errorf("after cancel: %s", r.body)
	}
	wantError(t, e.do("GET", "/api/v2/generate/text/status/unknown-id", "", nil), http.StatusNotFound, "")
}

// TestTextPopValidatedBackends checks the AI Horde's validated_backends rule
// from the worker's side: by default a text request goes only to a bridge
// on its validated list (KoboldCpp, aphrodite, TabbyAPI, ...), others skip
// it as "bridge_version"; validated_backends false lets any bridge take it.
func TestTextPopValidatedBackends(t *testing.T) {
	tests := []struct {
		name      string
		agent     string // "" sends no bridge_agent (the AI Horde's "unknown:0:unknown")
		validated any    // the request's validated_backends; nil leaves it out
		wantJob   bool
	}{
		{"KoboldCpp takes a default request", "KoboldCppEmbedWorker:1.80.3:https://github.com/LostRuins/koboldcpp", nil, true},
		{"aphrodite takes a default request", "AI Horde Worker~aphrodite~kai:5:https://github.com/Haidra-Org/AI-Horde-Worker", nil, true},
		{"TabbyAPI takes a validated request", "TabbyAPI:0.1.0:https://github.com/theroyallab/tabbyAPI", true, true},
		{"the reference worker takes a default request", "hordeworker:0.1.0:https://github.com/hordebot/hordebot", nil, true},
		{"an unvalidated bridge skips a default request", "KoboldAI Bridge:10:https://example.org", nil, false},
		{"an unvalidated bridge skips a validated request", "Medusa-Bridge:1:https://example.org", true, false},
		{"no bridge_agent skips a default request", "", nil, false},
		{"an unvalidated bridge takes validated_backends false", "KoboldAI Bridge:10:https://example.org", false, true},
		{"no bridge_agent takes validated_backends false", "", false, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			body := textRequest(nil)
			if tt.validated != nil {
				body["validated_backends"] = tt.validated
			}
			wantStatus(t, e.do("POST", "/api/v2/generate/text/async", "", body), http.StatusAccepted)
			pop := textPop("bridge-" + strconv.Itoa(i))
			if tt.agent == "" {
				delete(pop, "bridge_agent")
			} else {
				pop["bridge_agent"] = tt.agent
			}
			r := e.do("POST", "/api/v2/generate/text/pop", key, pop)
			wantStatus(t, r, http.StatusOK)
			var out struct {
				IDs     []string       `json:"ids"`
				Skipped map[string]int `json:"skipped"`
			}
			r.json(t, &out)
			if tt.wantJob && len(out.IDs) != 1 {
				t.Fatalf("got no job (skipped %v), want the request", out.Skipped)
			}
			if !tt.wantJob && (len(out.IDs) != 0 || out.Skipped["bridge_version"] != 1) {
				t.Fatalf("ids %v skipped %v, want no job and bridge_version 1", out.IDs, out.Skipped)
			}
		})
	}
}

// TestTextPopBatches: as the AI Horde's text pop (its shared pop parser's
// amount, base get_safe_amount, kobold prepare_job_payload), a text pop with
// amount hands out up to that many items of one request as ids, with the
// payload's n always 1: a worker makes one text per id. disable_batching
// gives one id; each id is submitted alone.
func TestTextPopBatches(t *testing.T) {
	for _, tc := range []struct {
		name            string
		n, amount       int
		disableBatching bool
		wantIDs         int
	}{
		{"amount 1 takes one", 3, 1, false, 1},
		{"amount 2 of 3 takes two", 3, 2, false, 2},
		{"amount 5 of 3 takes the three", 3, 5, false, 3},
		{"disable_batching takes one", 3, 4, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			body := textRequest(map[string]any{"params": map[string]any{"max_length": 64, "n": tc.n}})
			if tc.disableBatching {
				body["disable_batching"] = true
			}
			wantStatus(t, e.do("POST", "/api/v2/generate/text/async", "", body), http.StatusAccepted)
			pop := textPop("kcpp")
			pop["amount"] = tc.amount
			r := e.do("POST", "/api/v2/generate/text/pop", key, pop)
			wantStatus(t, r, http.StatusOK)
			var out struct {
				ID      string   `json:"id"`
				IDs     []string `json:"ids"`
				Payload struct {
					N int `json:"n"`
				} `json:"payload"`
			}
			r.json(t, &out)
			if len(out.IDs) != tc.wantIDs || out.ID != out.IDs[0] {
				t.Fatalf("id %q ids %v, want %d ids", out.ID, out.IDs, tc.wantIDs)
			}
			if out.Payload.N != 1 {
				t.Errorf("payload n = %d, want 1 (the AI Horde's text payload is always n 1)", out.Payload.N)
			}
			for i, id := range out.IDs {
				r := e.do("POST", "/api/v2/generate/text/submit", key, map[string]any{"id": id, "generation": "text " + strconv.Itoa(i), "state": "ok"})
				wantStatus(t, r, http.StatusOK)
			}
		})
	}
}
