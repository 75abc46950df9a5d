package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
)

// TestTextParamsReachTheWorker sends every field of the AI Horde's text
// params model and checks that the text pop's payload carries each as sent
// (min_p, typical, tfs, top_a, sampler_order, rep_pen_slope, singleline,
// the frmt* flags, use_default_badwordsids, smoothing_factor, dynatemp_*
// used to be accepted and dropped); a field left out stays out.
func TestTextParamsReachTheWorker(t *testing.T) {
	sent := map[string]any{
		"temperature": 0.7, "top_p": 0.9, "top_k": 150.0, "top_a": 0.1, "typical": 0.95, "tfs": 0.97, "min_p": 0.05,
		"rep_pen": 1.1, "rep_pen_range": 320.0, "rep_pen_slope": 0.7, "sampler_order": []any{6.0, 0.0, 1.0, 3.0, 4.0, 2.0, 5.0},
		"stop_sequence": []any{"\nYou:"}, "singleline": true, "frmtadsnsp": true, "frmtrmblln": false, "frmtrmspch": true,
		"frmttriminc": true, "use_default_badwordsids": false, "smoothing_factor": 0.3, "dynatemp_range": 0.5,
		"dynatemp_exponent": 1.5,
	}
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	params := map[string]any{"max_length": 64, "max_context_length": 1024}
	for k, v := range sent {
		params[k] = v
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/text/async", "", map[string]any{
		"prompt": "Once upon a time,", "params": params, "validated_backends": false,
	}), http.StatusAccepted)
	r := e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1"))
	wantStatus(t, r, http.StatusOK)
	var pop struct {
		Payload map[string]json.RawMessage `json:"payload"`
	}
	r.json(t, &pop)
	for field, want := range sent {
		raw, ok := pop.Payload[field]
		if !ok {
			t.Errorf("payload lacks %s: %s", field, r.body)
			continue
		}
		var got any
		if err := json.Unmarshal(raw, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("payload %s = %s, want %v", field, raw, want)
		}
	}

	// A request that sets none of them sends none.
	wantStatus(t, e.do("POST", "/api/v2/generate/text/async", "", textRequest(nil)), http.StatusAccepted)
	r = e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1"))
	pop.Payload = nil
	r.json(t, &pop)
	for _, field := range []string{"min_p", "singleline", "use_default_badwordsids", "sampler_order", "dynatemp_exponent"} {
		if _, ok := pop.Payload[field]; ok {
			t.Errorf("payload carries %s the request did not set: %s", field, r.body)
		}
	}
}

// TestTextParamsRules checks the AI Horde's ranges of the text settings.
func TestTextParamsRules(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		rc     string
	}{
		{"min_p above 1", map[string]any{"min_p": 1.5}, "BadRequest"},
		{"rep_pen_slope above 10", map[string]any{"rep_pen_slope": 11}, "BadRequest"},
		{"dynatemp_exponent above 5", map[string]any{"dynatemp_exponent": 6}, "BadRequest"},
		{"a partial sampler_order", map[string]any{"sampler_order": []int{6, 0, 1}}, "MissingFullSamplerOrder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			r := e.do("POST", "/api/v2/generate/text/async", "", map[string]any{"prompt": "hi", "params": tt.params})
			if m := wantError(t, r, http.StatusBadRequest, ""); m["rc"] != tt.rc {
				t.Errorf("rc = %v, want %s", m["rc"], tt.rc)
			}
		})
	}
}

// TestImageStrengthsReachTheWorker: facefixer_strength and
// hires_fix_denoising_strength reach the image pop's payload.
func TestImageStrengthsReachTheWorker(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	e.asyncImage("", map[string]any{"params": map[string]any{
		"steps": 10, "width": 512, "height": 512, "hires_fix": true, "hires_fix_denoising_strength": 0.4,
		"facefixer_strength": 0.8, "post_processing": []string{"GFPGAN"},
	}})
	pl, _ := e.popImage(key, "gpu-1")["payload"].(map[string]any)
	if pl["hires_fix_denoising_strength"] != 0.4 || pl["facefixer_strength"] != 0.8 {
		t.Errorf("payload = %v, want hires_fix_denoising_strength 0.4 and facefixer_strength 0.8", pl)
	}
}
