package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestImageStatsTotals: each stored image counts in every period it falls
// in, with its pixelsteps (width*height*steps), and of all time.
func TestImageStatsTotals(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("worker-owner")
	const ps = 512 * 512 * 20 // imageRequest's size and steps

	e.asyncImage(key, nil)
	e.finishImage(key, "gpu-1", false, resultWebP)
	e.clock.Advance(2 * time.Hour) // the first is past the minute and the hour
	e.asyncImage(key, nil)
	e.finishImage(key, "gpu-1", false, resultWebP)

	r := e.do("GET", "/api/v2/stats/img/totals", "", nil)
	wantStatus(t, r, http.StatusOK)
	var got aihorde.ImageStatsTotals
	r.json(t, &got)
	want := aihorde.ImageStatsTotals{
		Minute: aihorde.ImagePeriodStat{Images: 1, PS: ps},
		Hour:   aihorde.ImagePeriodStat{Images: 1, PS: ps},
		Day:    aihorde.ImagePeriodStat{Images: 2, PS: 2 * ps},
		Month:  aihorde.ImagePeriodStat{Images: 2, PS: 2 * ps},
		Total:  aihorde.ImagePeriodStat{Images: 2, PS: 2 * ps},
	}
	if got != want {
		t.Errorf("totals = %+v, want %+v", got, want)
	}

	// Forty days on, the month is empty and the total remains.
	e.clock.Advance(40 * 24 * time.Hour)
	e.asyncImage(key, nil)
	e.finishImage(key, "gpu-1", false, resultWebP)
	e.do("GET", "/api/v2/stats/img/totals", "", nil).json(t, &got)
	if got.Month.Images != 1 || got.Total.Images != 3 || got.Total.PS != 3*ps {
		t.Errorf("forty days on: month %+v, total %+v; want 1 this month, 3 in all", got.Month, got.Total)
	}

	r = e.do("GET", "/api/v2/stats/img/models", "", nil)
	wantStatus(t, r, http.StatusOK)
	var models aihorde.ModelStats
	r.json(t, &models)
	if models.Day["stable_diffusion"] != 1 || models.Month["stable_diffusion"] != 1 || models.Total["stable_diffusion"] != 3 {
		t.Errorf("model stats = %+v, want stable_diffusion 1 today, 1 this month, 3 in all", models)
	}
	r = e.do("GET", "/api/v2/stats/img/models?model_state=custom", "", nil)
	wantStatus(t, r, http.StatusOK)
	var custom aihorde.ModelStats
	r.json(t, &custom)
	if len(custom.Total) != 0 || len(custom.Day) != 0 {
		t.Errorf("custom models = %+v, want none (every model is known here)", custom)
	}
	wantError(t, e.do("GET", "/api/v2/stats/img/models?model_state=mine", "", nil), http.StatusBadRequest, "model_state")

	// Text stats are apart.
	var text aihorde.TextStatsTotals
	e.do("GET", "/api/v2/stats/text/totals", "", nil).json(t, &text)
	if text != (aihorde.TextStatsTotals{}) {
		t.Errorf("text totals = %+v, want zeros", text)
	}
}

// TestTextStats: a text counts once, with its requested max_length as
// tokens, and per model.
func TestTextStats(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("kobold-owner")
	r := e.do("POST", "/api/v2/generate/text/async", key, textRequest(nil))
	wantStatus(t, r, http.StatusAccepted)
	r = e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1"))
	wantStatus(t, r, http.StatusOK)
	id, _ := r.object(t)["id"].(string)
	wantStatus(t, e.do("POST", "/api/v2/generate/text/submit", key, map[string]any{"id": id, "generation": "there was a bot.", "state": "ok"}), http.StatusOK)

	var got aihorde.TextStatsTotals
	e.do("GET", "/api/v2/stats/text/totals", "", nil).json(t, &got)
	one := aihorde.TextPeriodStat{Requests: 1, Tokens: 64}
	if got != (aihorde.TextStatsTotals{Minute: one, Hour: one, Day: one, Month: one, Total: one}) {
		t.Errorf("text totals = %+v, want one text of 64 tokens in every period", got)
	}
	var models aihorde.ModelStats
	e.do("GET", "/api/v2/stats/text/models", "", nil).json(t, &models)
	if models.Total["koboldcpp/tiny"] != 1 || models.Day["koboldcpp/tiny"] != 1 {
		t.Errorf("text model stats = %+v", models)
	}
}

func TestStatusModes(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	_, userKey := e.user("alice")
	tests := []struct {
		name     string
		key      string
		status   int
		wantRaid bool
	}{
		{"no key", "", http.StatusOK, false},
		{"a moderator also sees raid mode", modKey, http.StatusOK, true},
		{"a user's key is not a moderator's", userKey, http.StatusForbidden, false},
		{"an unknown key", "not-a-key", http.StatusUnauthorized, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/api/v2/status/modes", tt.key, nil)
			if tt.status != http.StatusOK {
				wantError(t, r, tt.status, "")
				return
			}
			wantStatus(t, r, http.StatusOK)
			m := r.object(t)
			if m["maintenance_mode"] != false || m["invite_only_mode"] != false {
				t.Errorf("modes = %s", r.body)
			}
			if _, ok := m["raid_mode"]; ok != tt.wantRaid {
				t.Errorf("raid_mode shown = %v, want %v: %s", ok, tt.wantRaid, r.body)
			}
		})
	}
}

func TestStatusNews(t *testing.T) {
	tests := []struct {
		name string
		news []aihorde.Newspiece
		want int
	}{
		{"none configured is an empty list", nil, 0},
		{"configured news", []aihorde.Newspiece{{Title: "New GPUs", Newspiece: "Two more workers joined.", DatePublished: "2025-06-01", Importance: "Information"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{News: tt.news})
			r := e.do("GET", "/api/v2/status/news", "", nil)
			wantStatus(t, r, http.StatusOK)
			var got []map[string]any
			r.json(t, &got)
			if len(got) != tt.want {
				t.Fatalf("news = %s, want %d pieces", r.body, tt.want)
			}
			for _, n := range got {
				for _, f := range []string{"date_published", "newspiece", "importance", "tags", "title", "more_info_urls"} {
					if _, ok := n[f]; !ok {
						t.Errorf("news piece lacks %s: %s", f, r.body)
					}
				}
			}
		})
	}
}

func TestStatusModelByName(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	wantStatus(t, e.do("POST", "/api/v2/generate/pop", key, imagePop("gpu-1", nil)), http.StatusOK)
	wantStatus(t, e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1")), http.StatusOK)
	tests := []struct {
		name, path, wantType string
	}{
		{"an image model", "/api/v2/status/models/stable_diffusion", "image"},
		{"a text model with a slash", "/api/v2/status/models/koboldcpp/tiny", "text"},
		{"a text model with an escaped slash", "/api/v2/status/models/koboldcpp%2Ftiny", "text"},
		{"a model nobody serves is an empty list", "/api/v2/status/models/nope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", tt.path, "", nil)
			wantStatus(t, r, http.StatusOK)
			var got []aihorde.ActiveModel
			r.json(t, &got)
			if tt.wantType == "" {
				if len(got) != 0 {
					t.Errorf("got %s, want []", r.body)
				}
				return
			}
			if len(got) != 1 || got[0].Type != tt.wantType || got[0].Count != 1 {
				t.Errorf("got %s, want one %s model served by one worker", r.body, tt.wantType)
			}
		})
	}
}
