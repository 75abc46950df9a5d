package api_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestSubmittedSeedIsStoredAsGiven checks that the seed a worker submits is
// the generation's seed, 0 included, as the AI Horde stores it (a seed of 0
// used to be ignored in favour of the job's own seed).
func TestSubmittedSeedIsStoredAsGiven(t *testing.T) {
	tests := []struct {
		name     string
		seed     any // the submit's seed; nil leaves it out
		viaR2    bool
		deferred bool // submit "R2" before the upload
		want     string
	}{
		{name: "inline, seed 0", seed: 0, want: "0"},
		{name: "inline, seed 99", seed: 99, want: "99"},
		{name: "R2 after the upload, seed 0", seed: 0, viaR2: true, want: "0"},
		{name: "R2 before the upload, seed 0", seed: 0, deferred: true, want: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			id := e.asyncImage("", map[string]any{"params": map[string]any{"seed": "77", "steps": 10, "width": 512, "height": 512}})
			m := e.popImage(key, "gpu-1")
			jobID, _ := m["id"].(string)
			gen := base64.StdEncoding.EncodeToString(resultWebP)
			if tt.viaR2 {
				wantStatus(t, e.do("PUT", m["r2_upload"].(string), "", resultWebP), http.StatusOK)
				gen = "R2"
			}
			if tt.deferred {
				gen = "R2"
			}
			body := map[string]any{"id": jobID, "generation": gen, "state": "ok", "seed": tt.seed}
			wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, body), http.StatusOK)
			if tt.deferred {
				wantStatus(t, e.do("PUT", m["r2_upload"].(string), "", resultWebP), http.StatusOK)
			}
			var st aihorde.ImageStatus
			e.do("GET", "/api/v2/generate/status/"+id, "", nil).json(t, &st)
			if len(st.Generations) != 1 || st.Generations[0].Seed != tt.want {
				t.Fatalf("generations = %+v, want one with seed %q", st.Generations, tt.want)
			}
		})
	}
}
