package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/store/storetest"
)

// newFilteredEnv is newEnv with the prompt filter the binary ships with.
func newFilteredEnv(t testing.TB) *env {
	t.Helper()
	f, err := filter.New(filter.Lists{
		Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative,
		Languages: assets.FilterLanguages(),
	}, filter.Options{NSFWModels: []string{"*"}})
	if err != nil {
		t.Fatalf("new filter: %v", err)
	}
	clk := newFakeClock()
	st := storetest.MustOpen(t, t.TempDir(), clk)
	h, err := horde.New(context.Background(), st, horde.Config{Clock: clk, Logger: quietLogger(), CheckImage: imagecheck.ForHorde, Filter: f})
	if err != nil {
		t.Fatalf("new horde: %v", err)
	}
	srv := httptest.NewServer(api.New(h, api.Options{Logger: quietLogger(), KeyLimit: unlimited, IPLimit: unlimited, Clock: clk}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, h: h, st: st, clock: clk}
}

// TestRefusedPromptIsCorruptPrompt400 checks that a prompt the filter
// refuses answers as the AI Horde's CorruptPrompt does: 400, whatever rule
// refused it (it used to be 403, and "PromptRefused" outside the csam rule).
func TestRefusedPromptIsCorruptPrompt400(t *testing.T) {
	tests := []struct {
		name string
		path string
		body map[string]any
	}{
		{"image, minors with sexual content", "/api/v2/generate/async", imageRequest(map[string]any{"prompt": "loli nude"})},
		{"image, nsfw in a sfw request", "/api/v2/generate/async", imageRequest(map[string]any{"prompt": "nude woman on a beach"})},
		{"text, minors with sexual content", "/api/v2/generate/text/async",
			map[string]any{"prompt": "an explicit story about a child", "params": map[string]any{"max_length": 80}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFilteredEnv(t)
			_, key := e.user("alice")
			r := e.do("POST", tt.path, key, tt.body)
			m := wantError(t, r, http.StatusBadRequest, "")
			if m["rc"] != "CorruptPrompt" {
				t.Errorf("rc = %v, want CorruptPrompt: %s", m["rc"], r.body)
			}
		})
	}
}
