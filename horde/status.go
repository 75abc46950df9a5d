package horde

import (
	"context"
	"iter"
	"maps"
	"math"
	"slices"
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
	var queues []QueuedWork
	workers := iter.Seq[*workerState](nil)
	if h.shared() {
		qs, v, err := h.sharedModelQueues(ctx, now, kind)
		if err != nil {
			return nil, err
		}
		queues, workers = qs, slices.Values(v.online)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.shared() {
		workers = maps.Values(h.workers)
		for k, b := range h.q.buckets {
			if k.kind == kind && k.model != "" && b.items > 0 {
				queues = append(queues, QueuedWork{Kind: kind, Model: k.model, Items: b.items, Work: b.work})
			}
		}
	}
	byName := make(map[string]*ModelStatus)
	get := func(m string) *ModelStatus {
		s := byName[m]
		if s == nil {
			s = &ModelStatus{Name: m, Kind: kind}
			byName[m] = s
		}
		return s
	}
	for ws := range workers {
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
	for _, b := range queues {
		s := get(b.Model)
		s.Jobs = b.Items
		s.Queued = b.Work
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

// countOnline adds the online workers and their threads of each kind to p.
func countOnline(p *Performance, workers iter.Seq[*workerState], now time.Time) {
	for ws := range workers {
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
}

// Performance summarises the queue and the workers. On a shared queue the
// queue counts and the past minute are the stored estimates' (at most a
// sweep and etaMaxAge old) and the workers the stored ones, so that every
// process answers the same (shared_eta.go).
func (h *Horde) Performance(ctx context.Context) (Performance, error) {
	now := h.clock.Now()
	if h.shared() {
		return h.sharedPerformance(ctx, now)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var p Performance
	img, txt := h.q.total(KindImage), h.q.total(KindText)
	p.QueuedRequests, p.QueuedMegapixelsteps = img.items, img.work
	p.QueuedTextRequests, p.QueuedTokens = txt.items, txt.work
	countOnline(&p, maps.Values(h.workers), now)
	p.QueuedForms = h.queuedFormsLocked()
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
