package horde

import (
	"context"
	"math"
	"sort"
	"time"
)

// completion is one finished job, kept for a minute for /status/performance.
type completion struct {
	at   time.Time
	kind RequestKind
	work float64
}

// recordCompletion remembers a finished job and forgets those older than a
// minute. Caller holds h.mu.
func (h *Horde) recordCompletion(now time.Time, kind RequestKind, work float64) {
	h.recent = append(h.recent, completion{at: now, kind: kind, work: work})
	h.pruneCompletions(now)
}

func (h *Horde) pruneCompletions(now time.Time) {
	cut := 0
	for cut < len(h.recent) && now.Sub(h.recent[cut].at) > time.Minute {
		cut++
	}
	if cut > 0 {
		h.recent = append(h.recent[:0], h.recent[cut:]...)
	}
}

// Models lists the models offered by online workers of a kind, with their
// queues; models with waiting requests but no online worker are listed too
// (with no workers), so that a client sees its request has none.
func (h *Horde) Models(ctx context.Context, kind RequestKind) ([]ModelStatus, error) {
	if kind != KindImage && kind != KindText {
		return nil, Invalidf("type", "unknown model type %q", kind)
	}
	now := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	byName := make(map[string]*ModelStatus)
	get := func(m string) *ModelStatus {
		s := byName[m]
		if s == nil {
			s = &ModelStatus{Name: m, Kind: kind}
			byName[m] = s
		}
		return s
	}
	for _, ws := range h.workers {
		w := &ws.w
		if w.Kind != kind || !w.Online(now) || w.Paused {
			continue
		}
		for _, m := range w.Models {
			s := get(m)
			s.Workers++
			s.Performance += throughput(w)
		}
	}
	for k, b := range h.q.buckets {
		if k.kind != kind || k.model == "" || b.items == 0 {
			continue
		}
		s := get(k.model)
		s.Jobs = b.items
		s.Queued = b.work
	}
	out := make([]ModelStatus, 0, len(byName))
	for _, s := range byName {
		if s.Performance > 0 {
			s.ETA = int(math.Ceil(s.Queued / s.Performance))
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Workers != out[j].Workers {
			return out[i].Workers > out[j].Workers
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Performance summarises the queue and the workers.
func (h *Horde) Performance(ctx context.Context) (Performance, error) {
	var sharedForms int
	if h.shared() {
		var err error
		if sharedForms, err = h.QueuedForms(ctx); err != nil {
			return Performance{}, err
		}
	}
	now := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	var p Performance
	img, txt := h.q.total(KindImage), h.q.total(KindText)
	p.QueuedRequests, p.QueuedMegapixelsteps = img.items, img.work
	p.QueuedTextRequests, p.QueuedTokens = txt.items, txt.work
	for _, ws := range h.workers {
		w := &ws.w
		if !w.Online(now) {
			continue
		}
		switch w.Kind {
		case KindImage:
			p.WorkerCount++
			p.ThreadCount += max(w.Threads, 1)
		case KindAlchemy:
			p.InterrogatorCount++
			p.InterrogatorThreadCount += max(w.Threads, 1)
		default:
			p.TextWorkerCount++
			p.TextThreadCount += max(w.Threads, 1)
		}
	}
	p.QueuedForms = h.queuedFormsLocked() + sharedForms // one of the two is 0
	h.pruneCompletions(now)
	for _, c := range h.recent {
		if c.kind == KindImage {
			p.PastMinuteMegapixelsteps += c.work
		} else {
			p.PastMinuteTokens += c.work
		}
	}
	return p, nil
}
