package api

import (
	"net/http"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// heartbeat answers that the API is up.
func (s *server) heartbeat(w http.ResponseWriter, r *http.Request) {
	version := s.opt.Version
	if version == "" {
		version = "dev"
	}
	s.ok(w, aihorde.Heartbeat{Message: "OK", Version: version})
}

// models lists the models online workers offer, ?type=image (default) or
// text, ?model_state=known|custom|all (default all: see modelStateParam).
func (s *server) models(w http.ResponseWriter, r *http.Request) {
	kind, err := kindParam(r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state, err := modelStateParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ms, err := s.h.Models(r.Context(), kind)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]aihorde.ActiveModel, 0, len(ms))
	for _, m := range ms {
		t := m.Kind
		if t == "" {
			t = kind
		}
		if !s.keepModel(state, t, m.Name) {
			continue
		}
		out = append(out, aihorde.ActiveModel{
			Name: m.Name, Count: m.Workers, Performance: m.Performance, Queued: m.Queued,
			Jobs: m.Jobs, ETA: m.ETA, Type: string(t),
		})
	}
	s.ok(w, out)
}

func (s *server) performance(w http.ResponseWriter, r *http.Request) {
	p, err := s.h.Performance(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.Performance{
		QueuedRequests:           p.QueuedRequests,
		QueuedTextRequests:       p.QueuedTextRequests,
		WorkerCount:              p.WorkerCount,
		TextWorkerCount:          p.TextWorkerCount,
		ThreadCount:              p.ThreadCount,
		TextThreadCount:          p.TextThreadCount,
		QueuedMegapixelsteps:     p.QueuedMegapixelsteps,
		PastMinuteMegapixelsteps: p.PastMinuteMegapixelsteps,
		QueuedTokens:             p.QueuedTokens,
		PastMinuteTokens:         p.PastMinuteTokens,
		QueuedForms:              p.QueuedForms,
		InterrogatorCount:        p.InterrogatorCount,
		InterrogatorThreadCount:  p.InterrogatorThreadCount,
	})
}
