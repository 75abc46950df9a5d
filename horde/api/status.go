package api

import (
	"net/http"

	"github.com/hordebot/hordebot/horde"
)

// heartbeat answers that the API is up.
func (s *server) heartbeat(w http.ResponseWriter, r *http.Request) {
	version := s.opt.Version
	if version == "" {
		version = "dev"
	}
	s.ok(w, struct {
		Message string `json:"message"`
		Version string `json:"version"`
	}{"OK", version})
}

// modelJSON is one line of /status/models.
type modelJSON struct {
	Name        string  `json:"name"`
	Count       int     `json:"count"`
	Performance float64 `json:"performance"`
	Queued      float64 `json:"queued"`
	Jobs        int     `json:"jobs"`
	ETA         int     `json:"eta"`
	Type        string  `json:"type"`
}

// models lists the models online workers offer, ?type=image (default) or text.
func (s *server) models(w http.ResponseWriter, r *http.Request) {
	kind, err := kindParam(r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ms, err := s.h.Models(r.Context(), kind)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]modelJSON, 0, len(ms))
	for _, m := range ms {
		t := m.Kind
		if t == "" {
			t = kind
		}
		out = append(out, modelJSON{
			Name: m.Name, Count: m.Workers, Performance: m.Performance, Queued: m.Queued,
			Jobs: m.Jobs, ETA: m.ETA, Type: string(t),
		})
	}
	s.ok(w, out)
}

// performanceJSON is /status/performance.
type performanceJSON struct {
	QueuedRequests           int     `json:"queued_requests"`
	QueuedTextRequests       int     `json:"queued_text_requests"`
	WorkerCount              int     `json:"worker_count"`
	TextWorkerCount          int     `json:"text_worker_count"`
	ThreadCount              int     `json:"thread_count"`
	TextThreadCount          int     `json:"text_thread_count"`
	QueuedMegapixelsteps     float64 `json:"queued_megapixelsteps"`
	PastMinuteMegapixelsteps float64 `json:"past_minute_megapixelsteps"`
	QueuedForms              int     `json:"queued_forms"`
	InterrogatorCount        int     `json:"interrogator_count"`
	InterrogatorThreadCount  int     `json:"interrogator_thread_count"`
	QueuedTokens             float64 `json:"queued_tokens"`
	PastMinuteTokens         float64 `json:"past_minute_tokens"`
}

func (s *server) performance(w http.ResponseWriter, r *http.Request) {
	p, err := s.h.Performance(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, performanceJSON{
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
	})
}
