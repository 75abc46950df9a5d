package api_test

import (
	"encoding/base64"
	"net/http"
	"slices"
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

// TestSeedVariation checks the seeds pops hand out for a request with a
// seed_variation, as the AI Horde's get_job_payload: seed +
// seed_variation*n for the n items still waiting (the first pop of three
// gets seed+3v), folded under 2^32 by shifting; without one, seed + item.
func TestSeedVariation(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"seed_variation 5", map[string]any{"seed": "1000", "seed_variation": 5}, []string{"1015", "1010", "1005"}},
		{"seed_variation 1000 past 2^32", map[string]any{"seed": "4294965000", "seed_variation": 1000}, []string{"1", "4294967000", "4294966000"}},
		{"no seed_variation", map[string]any{"seed": "1000"}, []string{"1000", "1001", "1002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			params := map[string]any{"steps": 10, "width": 512, "height": 512, "n": 3}
			for k, v := range tt.params {
				params[k] = v
			}
			e.asyncImage("", map[string]any{"params": params})
			var got []string
			for range tt.want {
				var out struct {
					IDs     []string `json:"ids"`
					Payload struct {
						Seed string `json:"seed"`
					} `json:"payload"`
				}
				e.do("POST", "/api/v2/generate/pop", key, imagePop("gpu-1", nil)).json(t, &out)
				if len(out.IDs) != 1 {
					t.Fatalf("pop gave ids %v, want one", out.IDs)
				}
				got = append(got, out.Payload.Seed)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("payload seeds %v, want %v", got, tt.want)
			}
		})
	}
}
