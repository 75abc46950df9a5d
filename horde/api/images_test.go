package api_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

func TestImageAsync(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("alice")

	params := func(kv ...any) map[string]any {
		p := map[string]any{"steps": 20, "width": 512, "height": 512}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i].(string)] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name   string
		key    string
		body   any
		status int
		field  string // the error message must name it
	}{
		{"queued with a user key", key, imageRequest(nil), http.StatusAccepted, ""},
		{"queued anonymously without a key", "", imageRequest(nil), http.StatusAccepted, ""},
		{"queued with the anonymous key", "0000000000", imageRequest(nil), http.StatusAccepted, ""},
		{"unknown key is 401", "not-a-key", imageRequest(nil), http.StatusUnauthorized, ""},
		{"steps as a string names the field", key, imageRequest(map[string]any{"params": params("steps", "30")}), http.StatusBadRequest, "params.steps"},
		{"prompt as a number names the field", key, map[string]any{"prompt": 5}, http.StatusBadRequest, "prompt"},
		{"nsfw as a string names the field", key, imageRequest(map[string]any{"nsfw": "yes"}), http.StatusBadRequest, "nsfw"},
		{"models as a string names the field", key, imageRequest(map[string]any{"models": "sd"}), http.StatusBadRequest, "models"},
		{"steps 0", key, imageRequest(map[string]any{"params": params("steps", 0)}), http.StatusBadRequest, "params.steps"},
		{"steps 501", key, imageRequest(map[string]any{"params": params("steps", 501)}), http.StatusBadRequest, "params.steps"},
		{"n 0", key, imageRequest(map[string]any{"params": params("n", 0)}), http.StatusBadRequest, "params.n"},
		{"n 21", key, imageRequest(map[string]any{"params": params("n", 21)}), http.StatusBadRequest, "params.n"},
		{"width 32", key, imageRequest(map[string]any{"params": params("width", 32)}), http.StatusBadRequest, "params.width"},
		{"width 3136", key, imageRequest(map[string]any{"params": params("width", 3136)}), http.StatusBadRequest, "params.width"},
		{"height not a multiple of 64", key, imageRequest(map[string]any{"params": params("height", 500)}), http.StatusBadRequest, "params.height"},
		{"cfg_scale 101", key, imageRequest(map[string]any{"params": params("cfg_scale", 101)}), http.StatusBadRequest, "params.cfg_scale"},
		{"empty prompt", key, map[string]any{"prompt": "  "}, http.StatusBadRequest, "prompt"},
		{"missing prompt", key, map[string]any{"params": params()}, http.StatusBadRequest, "prompt"},
		{"prompt over 10000 characters", key, map[string]any{"prompt": strings.Repeat("é", 10001)}, http.StatusBadRequest, "prompt"},
		{"prompt of exactly 10000 characters", key, map[string]any{"prompt": strings.Repeat("a", 10000)}, http.StatusAccepted, ""},
		{"malformed JSON", key, `{"prompt": "x",`, http.StatusBadRequest, "JSON"},
		{"a JSON array", key, `["prompt"]`, http.StatusBadRequest, "object"},
		{"an empty body", key, ``, http.StatusBadRequest, "object"},
		{"trailing garbage", key, `{"prompt": "x"} {}`, http.StatusBadRequest, "JSON"},
		{"bad source_processing", key, imageRequest(map[string]any{"source_processing": "sideways"}), http.StatusBadRequest, "source_processing"},
		{"too many workers", key, imageRequest(map[string]any{"workers": []string{"a", "b", "c", "d", "e", "f"}}), http.StatusBadRequest, "workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/generate/async", tt.key, tt.body)
			if tt.status != http.StatusAccepted {
				wantError(t, r, tt.status, tt.field)
				return
			}
			wantStatus(t, r, http.StatusAccepted)
			m := r.object(t)
			if id, _ := m["id"].(string); id == "" {
				t.Errorf("no id in %s", r.body)
			}
			if k, _ := m["kudos"].(float64); k <= 0 {
				t.Errorf("kudos = %v, want > 0", m["kudos"])
			}
			if _, ok := m["warnings"].([]any); !ok {
				t.Errorf("warnings is not an array: %s", r.body)
			}
		})
	}
}

func TestImageAsyncWrongTypeListsFieldInErrors(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("POST", "/api/v2/generate/async", "", `{"prompt":"x","params":{"width":"wide"}}`)
	m := wantError(t, r, http.StatusBadRequest, "params.width")
	errs, _ := m["errors"].(map[string]any)
	if _, ok := errs["params.width"]; !ok {
		t.Errorf("errors does not list params.width: %s", r.body)
	}
}

func TestImageAsyncUnknownFieldsAreWarnings(t *testing.T) {
	e := newEnv(t, api.Options{})
	body := imageRequest(map[string]any{"frobnicate": true})
	body["params"].(map[string]any)["wiggle"] = 3
	r := e.do("POST", "/api/v2/generate/async", "", body)
	wantStatus(t, r, http.StatusAccepted)
	var out struct {
		Warnings []aihorde.Warning
	}
	r.json(t, &out)
	want := map[string]string{
		"frobnicate":    api.WarnUnknownField,
		"params.wiggle": api.WarnUnknownField,
	}
	for field, code := range want {
		found := false
		for _, w := range out.Warnings {
			if w.Code == code && strings.Contains(w.Message, field) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s warning naming %q in %+v", code, field, out.Warnings)
		}
	}
}

func TestImageAsyncDryRunQueuesNothing(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("POST", "/api/v2/generate/async", "", imageRequest(map[string]any{"dry_run": true}))
	wantStatus(t, r, http.StatusOK)
	m := r.object(t)
	if k, _ := m["kudos"].(float64); k <= 0 {
		t.Errorf("dry run kudos = %v, want > 0", m["kudos"])
	}
	if _, ok := m["id"]; ok {
		t.Errorf("dry run answered an id: %s", r.body)
	}
	perf := e.do("GET", "/api/v2/status/performance", "", nil).object(t)
	if q := perf["queued_requests"].(float64); q != 0 {
		t.Errorf("queued_requests after a dry run = %v, want 0", q)
	}
}

func TestImageBodyTooLarge(t *testing.T) {
	e := newEnv(t, api.Options{MaxBodyBytes: 1024})
	body := imageRequest(map[string]any{"source_image": strings.Repeat("A", 2048)})
	r := e.do("POST", "/api/v2/generate/async", "", body)
	m := wantError(t, r, http.StatusBadRequest, "")
	if m["rc"] != "BodyTooLarge" {
		t.Errorf("rc = %v, want BodyTooLarge", m["rc"])
	}
	if errs, _ := m["errors"].(map[string]any); errs["body"] == nil {
		t.Errorf("errors = %v, want the field body named", m["errors"])
	}
}

func TestImageCheckStatusCancel(t *testing.T) {
	e := newEnv(t, api.Options{})
	id := e.asyncImage("", map[string]any{"params": map[string]any{"n": 2, "steps": 10}})

	t.Run("check needs no key and reports waiting", func(t *testing.T) {
		r := e.do("GET", "/api/v2/generate/check/"+id, "", nil)
		wantStatus(t, r, http.StatusOK)
		m := r.object(t)
		for _, f := range []string{"finished", "processing", "restarted", "waiting", "done", "faulted", "wait_time", "queue_position", "kudos", "is_possible"} {
			if _, ok := m[f]; !ok {
				t.Errorf("check lacks %q: %s", f, r.body)
			}
		}
		if m["waiting"].(float64) != 2 || m["done"].(bool) {
			t.Errorf("check = %s, want 2 waiting and not done", r.body)
		}
	})
	t.Run("status has an empty generations array", func(t *testing.T) {
		r := e.do("GET", "/api/v2/generate/status/"+id, "", nil)
		wantStatus(t, r, http.StatusOK)
		gens, ok := r.object(t)["generations"].([]any)
		if !ok || len(gens) != 0 {
			t.Errorf("generations = %s, want []", r.body)
		}
	})
	for _, path := range []string{"/api/v2/generate/check/", "/api/v2/generate/status/"} {
		t.Run("unknown id is 404 on "+path, func(t *testing.T) {
			wantError(t, e.do("GET", path+"00000000-0000-0000-0000-000000000000", "", nil), http.StatusNotFound, "")
		})
	}
	t.Run("unknown id is 404 on DELETE", func(t *testing.T) {
		wantError(t, e.do("DELETE", "/api/v2/generate/status/nope", "", nil), http.StatusNotFound, "")
	})
	t.Run("cancel needs no key and finishes the request", func(t *testing.T) {
		r := e.do("DELETE", "/api/v2/generate/status/"+id, "", nil)
		wantStatus(t, r, http.StatusOK)
		if done, _ := r.object(t)["done"].(bool); !done {
			t.Errorf("after cancel done = false: %s", r.body)
		}
		m := e.do("GET", "/api/v2/generate/check/"+id, "", nil).object(t)
		if m["waiting"].(float64) != 0 {
			t.Errorf("after cancel waiting = %v, want 0", m["waiting"])
		}
	})
}

func TestImagePop(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("worker-owner")

	t.Run("anonymous pop is 403", func(t *testing.T) {
		wantError(t, e.do("POST", "/api/v2/generate/pop", "0000000000", imagePop("anon", nil)), http.StatusForbidden, "")
		wantError(t, e.do("POST", "/api/v2/generate/pop", "", imagePop("anon", nil)), http.StatusForbidden, "")
	})
	t.Run("unknown key is 401", func(t *testing.T) {
		wantError(t, e.do("POST", "/api/v2/generate/pop", "wrong-key", imagePop("w", nil)), http.StatusUnauthorized, "")
	})
	t.Run("missing name names the field", func(t *testing.T) {
		wantError(t, e.do("POST", "/api/v2/generate/pop", key, map[string]any{"models": []string{"x"}}), http.StatusBadRequest, "name")
	})
	t.Run("amount out of range names the field", func(t *testing.T) {
		wantError(t, e.do("POST", "/api/v2/generate/pop", key, imagePop("w", map[string]any{"amount": 21})), http.StatusBadRequest, "amount")
	})
	t.Run("max_pixels as a string names the field", func(t *testing.T) {
		wantError(t, e.do("POST", "/api/v2/generate/pop", key, imagePop("w", map[string]any{"max_pixels": "big"})), http.StatusBadRequest, "max_pixels")
	})
	t.Run("no job answers null id, empty ids, payload and skipped", func(t *testing.T) {
		r := e.do("POST", "/api/v2/generate/pop", key, imagePop("idle", map[string]any{"allow_unsafe_ip": true}))
		wantStatus(t, r, http.StatusOK)
		m := r.object(t)
		if v, ok := m["id"]; !ok || v != nil {
			t.Errorf("id = %v (present %v), want null", v, ok)
		}
		if ids, ok := m["ids"].([]any); !ok || len(ids) != 0 {
			t.Errorf("ids = %v, want []", m["ids"])
		}
		if p, ok := m["payload"].(map[string]any); !ok || len(p) != 0 {
			t.Errorf("payload = %v, want {}", m["payload"])
		}
		if _, ok := m["skipped"].(map[string]any); !ok {
			t.Errorf("skipped = %v, want an object", m["skipped"])
		}
	})
	t.Run("a job carries the AI Horde payload", func(t *testing.T) {
		e.asyncImage("", map[string]any{"params": map[string]any{"steps": 25, "width": 576, "height": 448, "seed": "42", "cfg_scale": 6.5, "karras": true}})
		m := e.popImage(key, "busy")
		id, _ := m["id"].(string)
		ids, _ := m["ids"].([]any)
		if id == "" || len(ids) != 1 || ids[0] != id {
			t.Fatalf("id %q, ids %v: %v", id, ids, m)
		}
		p := m["payload"].(map[string]any)
		want := map[string]any{"width": 576.0, "height": 448.0, "steps": 25.0, "ddim_steps": 25.0, "n_iter": 1.0, "cfg_scale": 6.5, "karras": true}
		for k, v := range want {
			if p[k] != v {
				t.Errorf("payload.%s = %v, want %v", k, p[k], v)
			}
		}
		if seed, ok := p["seed"].(string); !ok || seed == "" || strings.Trim(seed, "0123456789") != "" {
			t.Errorf("payload.seed = %#v, want a decimal string, as the AI Horde sends it", p["seed"])
		}
		if !strings.HasPrefix(p["prompt"].(string), "a lighthouse") {
			t.Errorf("payload.prompt = %v", p["prompt"])
		}
		up, _ := m["r2_upload"].(string)
		if !strings.HasPrefix(up, e.srv.URL+"/api/v2/r2/") || !strings.Contains(up, id) {
			t.Errorf("r2_upload = %q, want a URL on this server naming %s", up, id)
		}
		if ttl, _ := m["ttl"].(float64); ttl < 150 {
			t.Errorf("ttl = %v, want >= 150", m["ttl"])
		}
	})
}

// finishImage runs one image request through a worker: pop, upload or
// inline, submit. It returns the job id and the bytes submitted.
func (e *env) finishImage(key, worker string, viaR2 bool, img []byte) string {
	e.t.Helper()
	m := e.popImage(key, worker)
	id, _ := m["id"].(string)
	if id == "" {
		e.t.Fatalf("pop found no job: %v", m)
	}
	gen := base64.StdEncoding.EncodeToString(img)
	if viaR2 {
		r := e.do("PUT", m["r2_upload"].(string), "", img)
		wantStatus(e.t, r, http.StatusOK)
		gen = "R2"
	}
	r := e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": id, "generation": gen, "state": "ok", "seed": 1234})
	wantStatus(e.t, r, http.StatusOK)
	if _, ok := r.object(e.t)["reward"].(float64); !ok {
		e.t.Fatalf("submit answered no reward: %s", r.body)
	}
	return id
}

func TestImageR2UploadSubmitAndDownload(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	reqID := e.asyncImage("", nil)
	jobID := e.finishImage(key, "gpu-1", true, resultWebP)

	r := e.do("GET", "/api/v2/generate/status/"+reqID, "", nil)
	wantStatus(t, r, http.StatusOK)
	var st struct {
		Done        bool
		Generations []struct {
			Img, Seed, ID, State, Model string
			WorkerID                    string `json:"worker_id"`
			WorkerName                  string `json:"worker_name"`
			Censored                    bool
		}
	}
	r.json(t, &st)
	if !st.Done || len(st.Generations) != 1 {
		t.Fatalf("status = %s, want done with one generation", r.body)
	}
	g := st.Generations[0]
	if g.ID != jobID || g.Seed != "1234" || g.WorkerName != "gpu-1" || g.WorkerID == "" || g.State != "ok" || g.Censored {
		t.Errorf("generation = %+v", g)
	}
	if !strings.HasPrefix(g.Img, e.srv.URL+"/api/v2/") {
		t.Fatalf("img = %q, want a URL on this server", g.Img)
	}
	img := e.do("GET", g.Img, "", nil)
	wantStatus(t, img, http.StatusOK)
	if !bytes.Equal(img.body, resultWebP) {
		t.Errorf("downloaded %d bytes, not the %d uploaded", len(img.body), len(resultWebP))
	}
	if ct := img.header.Get("Content-Type"); ct != "image/webp" {
		t.Errorf("Content-Type = %q, want image/webp", ct)
	}
}

func TestImageInlineResultWithR2False(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	reqID := e.asyncImage("", map[string]any{"r2": false})
	pngData := pngImage(t, 7)
	e.finishImage(key, "gpu-1", false, pngData)

	var st struct{ Generations []struct{ Img string } }
	e.do("GET", "/api/v2/generate/status/"+reqID, "", nil).json(t, &st)
	if len(st.Generations) != 1 {
		t.Fatalf("generations = %+v", st.Generations)
	}
	got, err := base64.StdEncoding.DecodeString(st.Generations[0].Img)
	if err != nil {
		t.Fatalf("img is not base64: %v", err)
	}
	if !bytes.Equal(got, pngData) {
		t.Errorf("inline image differs from the submitted one")
	}
}

func TestImageSubmitErrors(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	_, otherKey := e.user("stranger")
	e.asyncImage("", nil)
	m := e.popImage(key, "gpu-1")
	jobID := m["id"].(string)
	good := base64.StdEncoding.EncodeToString(resultWebP)

	tests := []struct {
		name   string
		key    string
		body   any
		status int
		field  string
	}{
		{"unknown job is 404", key, map[string]any{"id": "00000000-0000-0000-0000-000000000000", "generation": good, "seed": 1}, http.StatusNotFound, ""},
		{"unknown key is 401", "bad", map[string]any{"id": jobID, "generation": good, "seed": 1}, http.StatusUnauthorized, ""},
		{"anonymous is 403", "", map[string]any{"id": jobID, "generation": good, "seed": 1}, http.StatusForbidden, ""},
		{"another user's job is 403", otherKey, map[string]any{"id": jobID, "generation": good, "seed": 1}, http.StatusForbidden, ""},
		{"generation not base64", key, map[string]any{"id": jobID, "generation": "!!!", "seed": 1}, http.StatusBadRequest, "generation"},
		{"generation not an image", key, map[string]any{"id": jobID, "generation": base64.StdEncoding.EncodeToString([]byte("hello")), "seed": 1}, http.StatusBadRequest, "generation"},
		{"seed as a string", key, map[string]any{"id": jobID, "generation": good, "seed": "1"}, http.StatusBadRequest, "seed"},
		{"seed missing", key, map[string]any{"id": jobID, "generation": good}, http.StatusBadRequest, "seed"},
		{"unknown state", key, map[string]any{"id": jobID, "generation": good, "seed": 1, "state": "great"}, http.StatusBadRequest, "state"},
		{"missing id", key, map[string]any{"generation": good, "seed": 1}, http.StatusBadRequest, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/api/v2/generate/submit", tt.key, tt.body), tt.status, tt.field)
		})
	}
	t.Run("second submit is 400", func(t *testing.T) {
		body := map[string]any{"id": jobID, "generation": good, "seed": 1, "state": "ok"}
		wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, body), http.StatusOK)
		wantError(t, e.do("POST", "/api/v2/generate/submit", key, body), http.StatusBadRequest, "")
	})
}

func TestR2Upload(t *testing.T) {
	e := newEnv(t, api.Options{MaxUploadBytes: 4096})
	_, key := e.user("owner")
	e.asyncImage("", nil)
	up := e.popImage(key, "gpu-1")["r2_upload"].(string)

	t.Run("not an image is 400", func(t *testing.T) {
		wantError(t, e.do("PUT", up, "", []byte("plain text")), http.StatusBadRequest, "")
	})
	t.Run("over the upload limit is 400", func(t *testing.T) {
		wantError(t, e.do("PUT", up, "", bytes.Repeat([]byte{1}, 5000)), http.StatusBadRequest, "")
	})
	t.Run("unknown job is 404", func(t *testing.T) {
		wantError(t, e.do("PUT", "/api/v2/r2/00000000-0000-0000-0000-000000000000.webp", "", mustBase64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")), http.StatusNotFound, "")
	})
	t.Run("without .webp is 404", func(t *testing.T) {
		wantError(t, e.do("PUT", "/api/v2/r2/abc", "", mustBase64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")), http.StatusNotFound, "")
	})
	t.Run("a PNG is accepted", func(t *testing.T) {
		wantStatus(t, e.do("PUT", up, "", pngImage(t, 1)), http.StatusOK)
	})
	t.Run("unknown result is 404", func(t *testing.T) {
		wantError(t, e.do("GET", "/api/v2/results/deadbeef", "", nil), http.StatusNotFound, "")
		wantError(t, e.do("GET", "/api/v2/results/..%2F..%2Fetc", "", nil), http.StatusNotFound, "")
	})
}

func TestUploadURLsSortLikeIDs(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	e.asyncImage("", map[string]any{"params": map[string]any{"n": 3}})
	r := e.do("POST", "/api/v2/generate/pop", key, imagePop("gpu-1", map[string]any{"amount": 3}))
	wantStatus(t, r, http.StatusOK)
	var out struct {
		IDs       []string
		R2Uploads []string `json:"r2_uploads"`
	}
	r.json(t, &out)
	if len(out.IDs) == 0 || len(out.IDs) != len(out.R2Uploads) {
		t.Fatalf("ids %v, r2_uploads %v", out.IDs, out.R2Uploads)
	}
	for i := range out.IDs {
		if !strings.Contains(out.R2Uploads[i], out.IDs[i]) {
			t.Errorf("r2_uploads[%d] = %s does not name ids[%d] = %s", i, out.R2Uploads[i], i, out.IDs[i])
		}
		for j := range out.IDs {
			if (out.IDs[i] < out.IDs[j]) != (out.R2Uploads[i] < out.R2Uploads[j]) {
				t.Errorf("ids %d,%d and their upload URLs sort differently", i, j)
			}
		}
	}
}
