package api_test

import (
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestAsyncWarningCodes checks the codes of an async answer's warnings: "no
// worker can serve this now" carries the AI Horde's NoAvailableWorker code,
// which clients (the npm package @zeldafan0225/ai_horde types the field with
// the AI Horde's codes) look for; it used to be the generic "Notice".
func TestAsyncWarningCodes(t *testing.T) {
	tests := []struct {
		name     string
		online   bool // an image worker serving stable_diffusion has popped
		path     string
		body     map[string]any
		want     string // a warning code the answer must carry
		wantNone string // a warning code the answer must not carry
	}{
		{name: "image, no worker online", path: "/api/v2/generate/async", body: imageRequest(nil),
			want: api.WarnNoAvailableWorker},
		{name: "text, no worker online", online: true, path: "/api/v2/generate/text/async",
			body: map[string]any{"prompt": "once upon a time", "params": map[string]any{"max_length": 40}},
			want: api.WarnNoAvailableWorker},
		{name: "image, online worker lacks the model", online: true, path: "/api/v2/generate/async",
			body: imageRequest(map[string]any{"models": []string{"other_model"}}), want: api.WarnNoAvailableWorker},
		{name: "image, an online worker can serve it", online: true, path: "/api/v2/generate/async",
			body: imageRequest(nil), wantNone: api.WarnNoAvailableWorker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("alice")
			if tt.online {
				_, wkey := e.user("vol")
				e.popImage(wkey, "gpu-1")
			}
			r := e.do("POST", tt.path, key, tt.body)
			wantStatus(t, r, http.StatusAccepted)
			var out struct {
				Warnings []aihorde.Warning `json:"warnings"`
			}
			r.json(t, &out)
			codes := map[string]bool{}
			for _, w := range out.Warnings {
				if w.Code == "" || w.Message == "" {
					t.Errorf("warning without code or message: %s", r.body)
				}
				codes[w.Code] = true
			}
			if tt.want != "" && !codes[tt.want] {
				t.Errorf("warnings lack code %q: %s", tt.want, r.body)
			}
			if tt.wantNone != "" && codes[tt.wantNone] {
				t.Errorf("warnings carry code %q: %s", tt.wantNone, r.body)
			}
		})
	}
}
