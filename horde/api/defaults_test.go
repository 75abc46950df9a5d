package api_test

import (
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestImageAsyncDefaults checks that a request that sets no parameter gets
// the AI Horde's defaults (horde/aihorde), the ones the domain and /imagine
// apply too.
func TestImageAsyncDefaults(t *testing.T) {
	nr, _, err := api.DecodeImageAsync([]byte(`{"prompt": "a lighthouse"}`))
	if err != nil {
		t.Fatal(err)
	}
	p := nr.Image
	if p.Width != aihorde.DefaultWidth || p.Height != aihorde.DefaultHeight || p.Steps != aihorde.DefaultSteps ||
		p.CFGScale != aihorde.DefaultCFGScale || p.SamplerName != aihorde.DefaultSampler || nr.N != aihorde.DefaultN {
		t.Errorf("defaults %dx%d, %d steps, cfg %g, %s, n %d; want the AI Horde's", p.Width, p.Height, p.Steps, p.CFGScale, p.SamplerName, nr.N)
	}
	if p.DenoisingStrength != 0 {
		t.Errorf("denoising %g, want unset (the payload carries the default)", p.DenoisingStrength)
	}
	tr, _, err := api.DecodeTextAsync([]byte(`{"prompt": "once upon a time"}`))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Text.MaxLength != aihorde.DefaultMaxLength || tr.Text.MaxContextLength != aihorde.DefaultMaxContextLength {
		t.Errorf("text defaults %d/%d, want the AI Horde's", tr.Text.MaxLength, tr.Text.MaxContextLength)
	}
}

// TestImageAsyncRanges checks the API's ranges at their edges, the same the
// domain applies (horde TestImageParamRanges).
func TestImageAsyncRanges(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("alice")
	params := func(k string, v any) map[string]any {
		return imageRequest(map[string]any{"params": map[string]any{"steps": 20, "width": 512, "height": 512, k: v}})
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"denoising at the AI Horde's minimum", params("denoising_strength", aihorde.MinDenoisingStrength), http.StatusAccepted, ""},
		{"denoising below it", params("denoising_strength", 0.005), http.StatusBadRequest, "params.denoising_strength"},
		{"denoising 1", params("denoising_strength", 1), http.StatusAccepted, ""},
		{"denoising above 1", params("denoising_strength", 1.01), http.StatusBadRequest, "params.denoising_strength"},
		{"cfg_scale at its maximum", params("cfg_scale", aihorde.MaxCFGScale), http.StatusAccepted, ""},
		{"cfg_scale negative", params("cfg_scale", -1), http.StatusBadRequest, "params.cfg_scale"},
		{"seed_variation 1001", params("seed_variation", 1001), http.StatusBadRequest, "params.seed_variation"},
		{"clip_skip 13", params("clip_skip", 13), http.StatusBadRequest, "params.clip_skip"},
		{"lora strength 5", params("loras", []map[string]any{{"name": "glow", "model": 5}}), http.StatusAccepted, ""},
		{"lora strength 6", params("loras", []map[string]any{{"name": "glow", "model": 6}}), http.StatusBadRequest, "params.loras.model"},
		{"lora strength a string", params("loras", []map[string]any{{"name": "glow", "clip": "x"}}), http.StatusBadRequest, "params.loras"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/generate/async", key, tt.body)
			if tt.status != http.StatusAccepted {
				wantError(t, r, tt.status, tt.field)
				return
			}
			wantStatus(t, r, http.StatusAccepted)
		})
	}
}
