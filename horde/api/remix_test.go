package api_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
)

// A Stable Cascade remix: source_processing "remix" with extra_source_images
// is accepted and forwarded, with strengths, in the pop answer. Before, the
// extra images were dropped with a warning and "remix" was refused.
func TestRemixForwardedInPop(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("requester")
	src := base64.StdEncoding.EncodeToString(pngImage(t, 1))
	extra := base64.StdEncoding.EncodeToString(pngImage(t, 2))
	e.asyncImage(key, map[string]any{
		"source_image": src, "source_processing": "remix",
		"extra_source_images": []map[string]any{{"image": extra, "strength": 0.5}, {"image": extra}},
	})
	_, wkey := e.user("workerowner")
	pop := e.popImage(wkey, "w1")
	if pop["source_processing"] != "remix" {
		t.Errorf("source_processing = %v", pop["source_processing"])
	}
	xs, _ := pop["extra_source_images"].([]any)
	if len(xs) != 2 {
		t.Fatalf("extra_source_images = %v", pop["extra_source_images"])
	}
	first, second := xs[0].(map[string]any), xs[1].(map[string]any)
	if first["image"] != extra || first["strength"] != 0.5 || second["strength"] != 1.0 {
		t.Errorf("extra_source_images = %v", xs)
	}
}

func TestRemixBadInput(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("requester")
	img := map[string]any{"image": "aGVsbG8="}
	for _, tt := range []struct {
		name  string
		extra []map[string]any
		field string
	}{
		{"six images", []map[string]any{img, img, img, img, img, img}, "extra_source_images"},
		{"no image", []map[string]any{{"strength": 0.5}}, "extra_source_images.0.image"},
		{"strength too high", []map[string]any{{"image": "aGVsbG8=", "strength": 2}}, "extra_source_images.0.strength"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/generate/async", key, imageRequest(map[string]any{"source_processing": "remix", "extra_source_images": tt.extra}))
			wantError(t, r, http.StatusBadRequest, tt.field)
		})
	}
}
