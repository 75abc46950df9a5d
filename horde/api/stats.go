package api

import (
	"net/http"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The AI Horde's statistics: what was generated in the past minute, hour,
// day and month (30 days) and of all time, counted from the results the
// store holds (a result counts when it is stored). They need no key.

func (s *server) imageTotals(w http.ResponseWriter, r *http.Request) {
	t, err := s.h.GenerationTotals(r.Context(), horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := func(pt horde.PeriodTotal) aihorde.ImagePeriodStat {
		return aihorde.ImagePeriodStat{Images: pt.Count, PS: pt.Units}
	}
	s.ok(w, aihorde.ImageStatsTotals{Minute: p(t.Minute), Hour: p(t.Hour), Day: p(t.Day), Month: p(t.Month), Total: p(t.Total)})
}

func (s *server) textTotals(w http.ResponseWriter, r *http.Request) {
	t, err := s.h.GenerationTotals(r.Context(), horde.KindText)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := func(pt horde.PeriodTotal) aihorde.TextPeriodStat {
		return aihorde.TextPeriodStat{Requests: pt.Count, Tokens: pt.Units}
	}
	s.ok(w, aihorde.TextStatsTotals{Minute: p(t.Minute), Hour: p(t.Hour), Day: p(t.Day), Month: p(t.Month), Total: p(t.Total)})
}

// imageModels answers /stats/img/models?model_state=known|custom|all. This
// horde serves whatever models its workers name and keeps no reference of
// "known" ones apart from them: every model is known, and custom is empty.
func (s *server) imageModels(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("model_state")
	if state == "" {
		state = aihorde.ModelStateKnown
	}
	var c check
	c.oneOf("model_state", state, aihorde.ModelStateKnown, aihorde.ModelStateCustom, aihorde.ModelStateAll)
	if c.err != nil {
		s.writeError(w, r, c.err)
		return
	}
	if state == aihorde.ModelStateCustom {
		s.ok(w, aihorde.ModelStats{Day: map[string]int64{}, Month: map[string]int64{}, Total: map[string]int64{}})
		return
	}
	s.modelStats(w, r, horde.KindImage)
}

func (s *server) textModels(w http.ResponseWriter, r *http.Request) {
	s.modelStats(w, r, horde.KindText)
}

func (s *server) modelStats(w http.ResponseWriter, r *http.Request, kind horde.RequestKind) {
	m, err := s.h.GenerationsByModel(r.Context(), kind)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.ModelStats{Day: m.Day, Month: m.Month, Total: m.Total})
}
