package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
)

// newStyleEnv is newEnv with the styles store and the embedded model reference.
func newStyleEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, api.Options{})
	ref, err := horde.ParseModelReference(assets.ModelReferenceImage, assets.ModelReferenceText)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(e.h, api.Options{Styles: e.st, Models: ref, Logger: quietLogger(),
		KeyLimit: unlimited, IPLimit: unlimited, Clock: e.clock}))
	t.Cleanup(srv.Close)
	e.srv = srv
	return e
}

// trustedUser creates a trusted user and returns its key.
func (e *env) trustedUser(name string) (horde.User, string) {
	e.t.Helper()
	u, key := e.user(name)
	u.Trusted = true
	if err := e.st.UpdateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u, key
}

func styleBody(extra map[string]any) map[string]any {
	b := map[string]any{
		"name": "oil", "prompt": "{p}, oil painting ### blurry, {np}", "models": []string{"stable_diffusion"},
		"params": map[string]any{"steps": 12, "sampler_name": "k_dpmpp_2m", "cfg_scale": 6},
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (e *env) createStyle(key string, body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/api/v2/styles/image", key, body)
	wantStatus(e.t, r, http.StatusOK)
	id, _ := r.object(e.t)["id"].(string)
	if id == "" {
		e.t.Fatalf("no id: %s", r.body)
	}
	return id
}

func TestStyleCreateAuth(t *testing.T) {
	e := newStyleEnv(t)
	_, plain := e.user("plain")
	_, trusted := e.trustedUser("trusted")
	for _, tt := range []struct {
		name, key string
		status    int
		rc        string
	}{
		{"anonymous", horde.AnonymousKey, http.StatusForbidden, "StylesAnonForbidden"},
		{"unknown key", "not-a-key-at-all", http.StatusUnauthorized, ""},
		{"untrusted", plain, http.StatusForbidden, "StylesRequiresCustomizer"},
		{"trusted", trusted, http.StatusOK, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/styles/image", tt.key, styleBody(nil))
			if tt.status == http.StatusOK {
				wantStatus(t, r, http.StatusOK)
				return
			}
			m := wantError(t, r, tt.status, "")
			if tt.rc != "" && m["rc"] != tt.rc {
				t.Errorf("rc = %v, want %s", m["rc"], tt.rc)
			}
		})
	}
}

func TestStyleBadInput(t *testing.T) {
	e := newStyleEnv(t)
	_, key := e.trustedUser("trusted")
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no models", styleBody(map[string]any{"models": []string{}}), "models"},
		{"no name", styleBody(map[string]any{"name": ""}), "name"},
		{"no {np}", styleBody(map[string]any{"prompt": "{p} in oil"}), "{np}"},
		{"steps out of range", styleBody(map[string]any{"params": map[string]any{"steps": 1000}}), "params.steps"},
		{"seed in params", styleBody(map[string]any{"params": map[string]any{"seed": "1"}}), "params.seed"},
		{"six models", styleBody(map[string]any{"models": []string{"a", "b", "c", "d", "e", "f"}}), "models"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/api/v2/styles/image", key, tt.body), http.StatusBadRequest, tt.field)
		})
	}
}

func TestStyleCRUD(t *testing.T) {
	e := newStyleEnv(t)
	owner, key := e.trustedUser("owner")
	_, other := e.trustedUser("other")
	id := e.createStyle(key, styleBody(map[string]any{"tags": []string{"paint"}}))

	got := e.do("GET", "/api/v2/styles/image/"+id, "", nil)
	wantStatus(t, got, http.StatusOK)
	m := got.object(t)
	if m["name"] != "oil" || m["creator"] != owner.Username() || m["prompt"] != "{p}, oil painting ### blurry, {np}" {
		t.Errorf("style = %s", got.body)
	}
	byName := e.do("GET", "/api/v2/styles/image_by_name/"+url.PathEscape(owner.Username()+"::oil"), "", nil)
	wantStatus(t, byName, http.StatusOK)
	if byName.object(t)["id"] != id {
		t.Errorf("by name = %s", byName.body)
	}
	var list []map[string]any
	l := e.do("GET", "/api/v2/styles/image?tag=paint", "", nil)
	wantStatus(t, l, http.StatusOK)
	l.json(t, &list)
	if len(list) != 1 {
		t.Errorf("list by tag = %s", l.body)
	}
	// A text style route does not serve an image style.
	wantError(t, e.do("GET", "/api/v2/styles/text/"+id, "", nil), http.StatusBadRequest, "")

	wantError(t, e.do("PATCH", "/api/v2/styles/image/"+id, other, map[string]any{"info": "mine now, really"}), http.StatusForbidden, "")
	wantStatus(t, e.do("PATCH", "/api/v2/styles/image/"+id, key, map[string]any{"info": "thick brush strokes"}), http.StatusOK)
	if info := e.do("GET", "/api/v2/styles/image/"+id, "", nil).object(t)["info"]; info != "thick brush strokes" {
		t.Errorf("info after patch = %v", info)
	}

	ex := e.do("POST", "/api/v2/styles/image/"+id+"/example", key, map[string]any{"url": "https://example.org/a.webp", "primary": false})
	wantStatus(t, ex, http.StatusOK)
	wantError(t, e.do("POST", "/api/v2/styles/image/"+id+"/example", key, map[string]any{"url": "http://example.org/b.webp"}), http.StatusBadRequest, "url")
	wantError(t, e.do("POST", "/api/v2/styles/image/"+id+"/example", key, map[string]any{"url": "https://example.org/a.webp"}), http.StatusBadRequest, "")
	exs := e.do("GET", "/api/v2/styles/image/"+id, "", nil).object(t)["examples"].([]any)
	if len(exs) != 1 || exs[0].(map[string]any)["primary"] != true {
		t.Errorf("examples = %v (the first is primary)", exs)
	}
	wantError(t, e.do("DELETE", "/api/v2/styles/image/"+id+"/example/nope", key, nil), http.StatusNotFound, "")

	wantError(t, e.do("DELETE", "/api/v2/styles/image/"+id, other, nil), http.StatusForbidden, "")
	wantStatus(t, e.do("DELETE", "/api/v2/styles/image/"+id, key, nil), http.StatusOK)
	for _, path := range []string{"/api/v2/styles/image/" + id, "/api/v2/styles/image_by_name/oil", "/api/v2/collections/nope", "/api/v2/collection_by_name/nope"} {
		m := wantError(t, e.do("GET", path, "", nil), http.StatusNotFound, "")
		if rc, _ := m["rc"].(string); rc != "StyleNotFound" && rc != "CollectionNotFound" {
			t.Errorf("%s: rc = %s", path, rc)
		}
	}
}

// A request's style is applied as the AI Horde does: prompt into the
// template, the style's params replace the request's (n, width and height
// kept), its models used. Before, the style was ignored with a warning.
func TestStyleAppliedToRequest(t *testing.T) {
	e := newStyleEnv(t)
	_, key := e.trustedUser("owner")
	_, requester := e.user("requester")
	e.createStyle(key, styleBody(nil))
	id := e.asyncImage(requester, map[string]any{
		"style": "oil", "prompt": "a cat ### dogs",
		"params": map[string]any{"steps": 50, "width": 576, "height": 512, "n": 1, "sampler_name": "k_euler"},
	})
	if id == "" {
		t.Fatal("no id")
	}
	_, wkey := e.user("workerowner")
	pop := e.popImage(wkey, "w1")
	pl, _ := pop["payload"].(map[string]any)
	if pl == nil {
		t.Fatalf("no job popped: %v", pop)
	}
	// " dogs" keeps its space, as the AI Horde's split does.
	if pl["prompt"] != "a cat , oil painting ### blurry,  dogs" {
		t.Errorf("prompt = %q", pl["prompt"])
	}
	if pl["steps"] != float64(12) || pl["sampler_name"] != "k_dpmpp_2m" || pl["cfg_scale"] != float64(6) || pl["width"] != float64(576) {
		t.Errorf("payload = %v: the style's params must win, width kept", pl)
	}
}

func TestUnknownStyleIs404(t *testing.T) {
	e := newStyleEnv(t)
	_, key := e.user("requester")
	m := wantError(t, e.do("POST", "/api/v2/generate/async", key, imageRequest(map[string]any{"style": "nope"})), http.StatusNotFound, "nope")
	if m["rc"] != "StyleNotFound" {
		t.Errorf("rc = %v", m["rc"])
	}
	// A text style on an image request is a mismatch.
	_, tkey := e.trustedUser("owner")
	r := e.do("POST", "/api/v2/styles/text", tkey, map[string]any{"name": "terse", "prompt": "Be terse. {p}", "models": []string{"koboldcpp/x"}})
	wantStatus(t, r, http.StatusOK)
	m = wantError(t, e.do("POST", "/api/v2/generate/async", key, imageRequest(map[string]any{"style": "terse"})), http.StatusBadRequest, "")
	if m["rc"] != "StyleMismatch" {
		t.Errorf("rc = %v", m["rc"])
	}
}

func TestCollections(t *testing.T) {
	e := newStyleEnv(t)
	_, key := e.trustedUser("owner")
	_, plain := e.user("plain")
	sid := e.createStyle(key, styleBody(nil))
	wantError(t, e.do("POST", "/api/v2/collections", plain, map[string]any{"name": "c", "styles": []string{sid}}), http.StatusForbidden, "")
	wantError(t, e.do("POST", "/api/v2/collections", key, map[string]any{"name": "c", "styles": []string{}}), http.StatusBadRequest, "style")
	wantError(t, e.do("POST", "/api/v2/collections", key, map[string]any{"name": "c", "styles": []string{"missing"}}), http.StatusBadRequest, "missing")
	r := e.do("POST", "/api/v2/collections", key, map[string]any{"name": "paintings", "styles": []string{"oil"}})
	wantStatus(t, r, http.StatusOK)
	cid := r.object(t)["id"].(string)
	got := e.do("GET", "/api/v2/collections/"+cid, "", nil)
	wantStatus(t, got, http.StatusOK)
	c := got.object(t)
	if c["type"] != "image" || len(c["styles"].([]any)) != 1 {
		t.Errorf("collection = %s", got.body)
	}
	wantStatus(t, e.do("GET", "/api/v2/collection_by_name/paintings", "", nil), http.StatusOK)
	// A request naming the collection gets its (only) style.
	e.asyncImage(plain, map[string]any{"style": "collection::paintings"})
	_, wkey := e.user("workerowner")
	pl, _ := e.popImage(wkey, "w1")["payload"].(map[string]any)
	if pl == nil || pl["steps"] != float64(12) {
		t.Errorf("payload = %v, want the collection's style applied", pl)
	}
	wantStatus(t, e.do("DELETE", "/api/v2/collections/"+cid, key, nil), http.StatusOK)
	wantError(t, e.do("GET", "/api/v2/collections/"+cid, "", nil), http.StatusNotFound, "")
}

func TestStylesDisabledWithoutStore(t *testing.T) {
	e := newEnv(t, api.Options{})
	m := wantError(t, e.do("GET", "/api/v2/styles/image", "", nil), http.StatusForbidden, "")
	if m["rc"] != "StylesDisabled" {
		t.Errorf("rc = %v", m["rc"])
	}
}

// The model reference's requirements give the AI Horde's warnings; hires_fix
// on Flux is refused.
func TestModelReferenceWarnings(t *testing.T) {
	e := newStyleEnv(t)
	_, key := e.user("requester")
	r := e.do("POST", "/api/v2/generate/async", key, imageRequest(map[string]any{
		"models": []string{"Flux.1-Schnell fp8 (Compact)"},
		"params": map[string]any{"steps": 30, "width": 512, "height": 512, "sampler_name": "k_euler_a", "cfg_scale": 7},
	}))
	wantStatus(t, r, http.StatusAccepted)
	codes := map[string]bool{}
	for _, w := range r.object(t)["warnings"].([]any) {
		codes[w.(map[string]any)["code"].(string)] = true
	}
	for _, c := range []string{"StepsTooMany", "CfgScaleMismatch", "SamplerMismatch"} {
		if !codes[c] {
			t.Errorf("warnings %v lack %s", codes, c)
		}
	}
	m := wantError(t, e.do("POST", "/api/v2/generate/async", key, imageRequest(map[string]any{
		"models": []string{"Flux.1-Schnell fp8 (Compact)"},
		"params": map[string]any{"steps": 6, "hires_fix": true},
	})), http.StatusBadRequest, "hires_fix")
	if m["rc"] != "HiResMismatch" {
		t.Errorf("rc = %v", m["rc"])
	}
}

// TestStatusModelsModelState: /status/models?model_state= keeps the models
// the model reference knows (known), the others (custom), or all.
func TestStatusModelsModelState(t *testing.T) {
	e := newStyleEnv(t)
	_, key := e.user("workerowner")
	wantStatus(t, e.do("POST", "/api/v2/generate/pop", key,
		imagePop("w1", map[string]any{"models": []string{"stable_diffusion", "my_own_merge"}})), http.StatusOK)
	for _, tc := range []struct {
		state string
		want  []string
	}{
		{"", []string{"my_own_merge", "stable_diffusion"}},
		{"all", []string{"my_own_merge", "stable_diffusion"}},
		{"known", []string{"stable_diffusion"}},
		{"custom", []string{"my_own_merge"}},
	} {
		t.Run("model_state="+tc.state, func(t *testing.T) {
			var out []struct{ Name string }
			r := e.do("GET", "/api/v2/status/models?type=image&model_state="+tc.state, "", nil)
			wantStatus(t, r, http.StatusOK)
			r.json(t, &out)
			var names []string
			for _, m := range out {
				names = append(names, m.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.want) {
				t.Errorf("models = %v, want %v", names, tc.want)
			}
		})
	}
	wantError(t, e.do("GET", "/api/v2/status/models?model_state=mine", "", nil), http.StatusBadRequest, "model_state")
}

// TestTextStyleAppliedToRequest: a text style's template takes the prompt
// ({p}), its params replace the request's but for n, and its models
// replace the request's, as the AI Horde's kobold apply_style.
func TestTextStyleAppliedToRequest(t *testing.T) {
	e := newStyleEnv(t)
	_, key := e.trustedUser("owner")
	_, requester := e.user("requester")
	r := e.do("POST", "/api/v2/styles/text", key, map[string]any{"name": "terse", "prompt": "Be terse. {p}",
		"models": []string{"koboldcpp/tiny"}, "params": map[string]any{"max_length": 40, "temperature": 0.2}})
	wantStatus(t, r, http.StatusOK)
	body := textRequest(map[string]any{"style": "terse", "models": []string{"koboldcpp/other"}})
	body["params"] = map[string]any{"max_length": 200, "temperature": 1.5, "n": 2}
	wantStatus(t, e.do("POST", "/api/v2/generate/text/async", requester, body), http.StatusAccepted)
	_, wkey := e.user("workerowner")
	pr := e.do("POST", "/api/v2/generate/text/pop", wkey, map[string]any{"name": "kcpp", "models": []string{"koboldcpp/tiny"},
		"max_length": 512, "max_context_length": 2048, "amount": 4, "bridge_agent": "KoboldCppEmbedWorker:1.80.3:https://github.com/LostRuins/koboldcpp"})
	wantStatus(t, pr, http.StatusOK)
	var out struct {
		IDs     []string `json:"ids"`
		Model   string   `json:"model"`
		Payload struct {
			Prompt      string  `json:"prompt"`
			MaxLength   int     `json:"max_length"`
			Temperature float64 `json:"temperature"`
		} `json:"payload"`
	}
	pr.json(t, &out)
	if len(out.IDs) != 2 || out.Model != "koboldcpp/tiny" {
		t.Fatalf("pop ids %v model %q, want the request's 2 items on the style's model: %s", out.IDs, out.Model, pr.body)
	}
	if out.Payload.Prompt != "Be terse. Once upon a time," || out.Payload.MaxLength != 40 || out.Payload.Temperature != 0.2 {
		t.Errorf("payload = %+v: want the template and the style's params", out.Payload)
	}
}
