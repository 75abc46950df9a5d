package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestWarningsUseOnlyAIHordeCodes sends requests that used to draw
// warnings with hordebot's own codes (UnknownField, Unsupported, Notice)
// and checks that every warning an async answer carries has one of the AI
// Horde's WarningMessage codes: clients generated from its swagger with
// strict enums refuse any other.
func TestWarningsUseOnlyAIHordeCodes(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		body     map[string]any
		filtered bool // with the prompt filter, which adds notices
	}{
		{"a forced minor-safe negative prompt (a filter notice)", "/api/v2/generate/async",
			imageRequest(map[string]any{"prompt": "a kid flying a kite", "nsfw": true}), true},
		{"unknown top-level field", "/api/v2/generate/async", imageRequest(map[string]any{"frobnicate": true}), false},
		{"unknown params field", "/api/v2/generate/async", imageRequest(map[string]any{
			"params": map[string]any{"steps": 20, "width": 512, "height": 512, "wiggle": 1}}), false},
		{"unsupported feature", "/api/v2/generate/async", imageRequest(map[string]any{
			"params": map[string]any{"steps": 20, "width": 512, "height": 512, "workflow": "qr_code", "special": map[string]any{"x": 1}}}), false},
		{"unknown text field", "/api/v2/generate/text/async", textRequest(map[string]any{"frobnicate": 1}), false},
		{"no worker for the model", "/api/v2/generate/async", imageRequest(map[string]any{"models": []string{"nobody_serves_this"}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *env
			if tt.filtered {
				e = newFilteredEnv(t)
			} else {
				e = newEnv(t, api.Options{})
			}
			r := e.do("POST", tt.path, "", tt.body)
			wantStatus(t, r, http.StatusAccepted)
			var out struct {
				Warnings []aihorde.Warning `json:"warnings"`
			}
			r.json(t, &out)
			for _, w := range out.Warnings {
				if !slices.Contains(aihorde.WarningCodes, w.Code) {
					t.Errorf("warning code %q is not one of the AI Horde's: %s", w.Code, r.body)
				}
			}
		})
	}
}
