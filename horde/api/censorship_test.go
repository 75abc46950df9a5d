package api_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestGenMetadataCensorship checks that censorship a worker reports in
// gen_metadata with state ok is read as the AI Horde reads it: value "csam"
// is a csam result, any other value a censored one; either earns nothing,
// and a csam image is never served. It used to be stored as an ok result.
func TestGenMetadataCensorship(t *testing.T) {
	tests := []struct {
		name         string
		metadata     []map[string]any
		wantCensored bool
		wantState    string // the image status's state (csam shows as censored)
		wantImg      bool
		wantReward   bool
	}{
		{"censorship csam", []map[string]any{{"type": "censorship", "value": "csam"}}, true, "censored", false, false},
		{"censorship nsfw", []map[string]any{{"type": "censorship", "value": "nsfw"}}, true, "censored", true, false},
		{"other metadata", []map[string]any{{"type": "lora", "value": "download_failed", "ref": "123"}}, false, "ok", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			id := e.asyncImage("", nil)
			jobID, _ := e.popImage(key, "gpu-1")["id"].(string)
			r := e.do("POST", "/api/v2/generate/submit", key, map[string]any{
				"id": jobID, "generation": base64.StdEncoding.EncodeToString(resultWebP), "state": "ok", "seed": 1,
				"gen_metadata": tt.metadata,
			})
			wantStatus(t, r, http.StatusOK)
			var sub aihorde.SubmitResponse
			r.json(t, &sub)
			if (sub.Reward > 0) != tt.wantReward {
				t.Errorf("reward = %v, want a reward: %v", sub.Reward, tt.wantReward)
			}
			var st aihorde.ImageStatus
			e.do("GET", "/api/v2/generate/status/"+id, "", nil).json(t, &st)
			if len(st.Generations) != 1 {
				t.Fatalf("status = %+v", st)
			}
			g := st.Generations[0]
			if g.Censored != tt.wantCensored || g.State != tt.wantState || (g.Img != "") != tt.wantImg {
				t.Errorf("generation censored=%v state=%q img=%v, want %v %q %v", g.Censored, g.State, g.Img != "", tt.wantCensored, tt.wantState, tt.wantImg)
			}
		})
	}
}

// TestTextGenMetadataCensorship is the text case: the state says csam, and
// a csam submitted as a state carries the censorship entry in gen_metadata.
func TestTextGenMetadataCensorship(t *testing.T) {
	tests := []struct {
		name     string
		state    string
		metadata []map[string]any
		want     string
	}{
		{"state ok, censorship csam", "ok", []map[string]any{{"type": "censorship", "value": "csam"}}, "csam"},
		{"state ok, censorship other", "ok", []map[string]any{{"type": "censorship", "value": "profanity"}}, "censored"},
		{"state csam, no metadata", "csam", nil, "csam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			r := e.do("POST", "/api/v2/generate/text/async", "", textRequest(nil))
			id := r.object(t)["id"].(string)
			jobID, _ := e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1")).object(t)["id"].(string)
			body := map[string]any{"id": jobID, "generation": "some text", "state": tt.state}
			if tt.metadata != nil {
				body["gen_metadata"] = tt.metadata
			}
			wantStatus(t, e.do("POST", "/api/v2/generate/text/submit", key, body), http.StatusOK)
			var st aihorde.TextStatus
			e.do("GET", "/api/v2/generate/text/status/"+id, "", nil).json(t, &st)
			if len(st.Generations) != 1 || st.Generations[0].State != tt.want {
				t.Fatalf("generations = %+v, want state %q", st.Generations, tt.want)
			}
			hasCSAM := false
			for _, m := range st.Generations[0].GenMetadata {
				hasCSAM = hasCSAM || (m.Type == "censorship" && m.Value == "csam")
			}
			if hasCSAM != (tt.want == "csam") {
				t.Errorf("gen_metadata = %+v: a csam entry: %v, want %v", st.Generations[0].GenMetadata, hasCSAM, tt.want == "csam")
			}
		})
	}
}
