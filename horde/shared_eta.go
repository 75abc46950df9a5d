package horde

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Queue positions, waits, is_possible and the queue counts on a shared
// queue (Config.Queue), the same for every process:
//
//   - The ETA table is computed by one process, the holder of the "sweeps"
//     lease, in every SweepShared (every SweepInterval, 5 s by default):
//     from the queue's entries in the database (SharedQueue.Waiting) and
//     the stored workers, with the arithmetic of the in-memory queue
//     (rankETA, eta.go), and stored whole with the queue counts and the
//     waiting alchemy forms (SharedQueue.SaveEstimates).
//   - Every process reads the stored table when its copy is etaMaxAge old
//     (and only when a newer one is stored): a check is a map lookup, never
//     a scan.
//   - A request submitted since the last table (at most one sweep ago) is
//     estimated on its own: its place among all the requests ahead in its
//     buckets (SharedQueue.Position), as if each were like it, over the
//     throughput of the online workers that offer its model.
//   - is_possible is computed at each check, as in one process (servable),
//     against the stored online workers (sharedWorkers: at most
//     sharedWorkersMaxAge old).

// sharedEstimatesMax bounds the queue entries one ETA refresh reads; the
// requests past it get the estimate of a request missing from the table.
const sharedEstimatesMax = 200000

// sharedEstimates is the stored estimates as this process last read them.
type sharedEstimates struct {
	read time.Time // when read (the Horde's clock)
	est  QueueEstimates
}

// estimates returns the stored estimates, read again when this process's
// copy is etaMaxAge old; empty ones (no request known) before the first
// refresh.
func (h *Horde) estimates(ctx context.Context, now time.Time) (*QueueEstimates, error) {
	fresh := func(c *sharedEstimates) bool {
		return c != nil && !now.Before(c.read) && now.Sub(c.read) < etaMaxAge
	}
	if c := h.sharedE.Load(); fresh(c) {
		return &c.est, nil
	}
	h.sharedEMu.Lock()
	defer h.sharedEMu.Unlock()
	c := h.sharedE.Load()
	if fresh(c) {
		return &c.est, nil
	}
	var since time.Time
	if c != nil {
		since = c.est.At
	}
	e, ok, err := h.cfg.Queue.Estimates(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("read the queue estimates: %w", err)
	}
	switch {
	case ok:
		c = &sharedEstimates{read: now, est: e}
	case c != nil:
		c = &sharedEstimates{read: now, est: c.est} // none newer
	default:
		c = &sharedEstimates{read: now}
	}
	h.sharedE.Store(c)
	return &c.est, nil
}

// DropCachedEstimates drops this process's copies of what its estimates
// (queue positions, waits, is_possible, the queue counts) are read from:
// on a shared queue the stored estimates and workers as last read, else
// the memory queue's ETA table. The next check or status reads them
// afresh, however recent the copies were. A process never needs it (its
// copies are at most 2 s old, and a sweep replaces its own); a test does,
// to read on one process what another's sweep stored just now
// (storetest.SweepEstimates).
func (h *Horde) DropCachedEstimates() {
	if h.shared() {
		h.sharedE.Store(nil)
		h.sharedW.Store(nil)
		return
	}
	h.eta.Store(nil)
}

// refreshSharedETA computes the estimates of the shared queue as of now and
// stores them: SweepShared's, in the holder of the "sweeps" lease.
func (h *Horde) refreshSharedETA(ctx context.Context, now time.Time) error {
	h.etaMu.Lock()
	defer h.etaMu.Unlock()
	v, err := h.sharedWorkers(ctx, now, 0)
	if err != nil {
		return err
	}
	entries, err := h.cfg.Queue.Waiting(ctx, sharedEstimatesMax)
	if err != nil {
		return fmt.Errorf("list the queue: %w", err)
	}
	// The requests, parsed once while they wait: only the new ones are read.
	var missing []string
	for _, e := range entries {
		if h.etaQueued[e.RequestID] == nil && !slices.Contains(missing, e.RequestID) {
			missing = append(missing, e.RequestID)
		}
	}
	if len(missing) > 0 {
		reqs, err := h.cfg.Queue.QueuedRequests(ctx, missing)
		if err != nil {
			return fmt.Errorf("read the queued requests: %w", err)
		}
		h.mu.Lock()
		for _, req := range reqs {
			h.etaQueued[req.ID] = h.newOpenRequest(req)
		}
		h.mu.Unlock()
	}

	// The entries come in priority order: the order of first sight is the
	// tie-break of equal scores (submit time, then id), as seq is in memory.
	queued := make(map[string]*openRequest, len(h.etaQueued))
	lists := make(map[bucketKey][]qentry)
	var seq uint64
	for _, e := range entries {
		r := h.etaQueued[e.RequestID]
		if r == nil {
			continue // ended since it was listed
		}
		if queued[e.RequestID] == nil {
			seq++
			r.seq, r.waiting = seq, e.Waiting
			queued[e.RequestID] = r
		}
		k := bucketKey{kind: e.Kind, model: e.Model}
		lists[k] = append(lists[k], qentry{score: r.score(), r: r})
	}
	h.etaQueued = queued
	walks := make(map[bucketKey]etaBucket, len(lists))
	for k, l := range lists {
		walks[k] = etaBucket{walk: func(yield func(qentry) bool) {
			for _, e := range l {
				if !yield(e) {
					return
				}
			}
		}, n: len(l)}
	}
	h.etaRound++
	pool := newServerPool(h.etaRound)
	tp := pool.addOnline(slices.Values(v.online), now)
	table := rankETA(walks, pool, tp)

	est := QueueEstimates{At: now, Requests: make(map[string]QueueEstimate, len(table))}
	for r, e := range table {
		est.Requests[r.req.ID] = QueueEstimate{Position: e.pos, Wait: e.wait}
	}
	totals := make(map[RequestKind]*QueuedWork)
	for _, r := range queued {
		t := totals[r.req.Kind]
		if t == nil {
			t = &QueuedWork{Kind: r.req.Kind}
			totals[r.req.Kind] = t
		}
		t.Items += r.waiting
		t.Work += float64(r.waiting) * r.itemWork
	}
	for _, t := range totals {
		est.Totals = append(est.Totals, *t)
	}
	for k, l := range lists {
		if k.model == "" {
			continue
		}
		b := QueuedWork{Kind: k.kind, Model: k.model}
		for _, e := range l {
			b.Items += e.r.waiting
			b.Work += float64(e.r.waiting) * e.r.itemWork
		}
		est.Buckets = append(est.Buckets, b)
	}
	for _, kind := range []RequestKind{KindImage, KindText} {
		periods, _, err := h.store.GenerationTotals(ctx, kind, []time.Time{now.Add(-time.Minute)})
		if err != nil {
			return fmt.Errorf("count the past minute's %s results: %w", kind, err)
		}
		if len(periods) == 1 {
			work := float64(periods[0].Units)
			if kind == KindImage {
				work /= 1e6 // pixelsteps to megapixel-steps, as itemWork
			}
			est.PastMinute = append(est.PastMinute, QueuedWork{Kind: kind, Items: int(periods[0].Count), Work: work})
		}
	}
	if est.Forms, err = h.cfg.Queue.QueuedForms(ctx); err != nil {
		return fmt.Errorf("count the waiting alchemy forms: %w", err)
	}
	if err := h.cfg.Queue.SaveEstimates(ctx, est); err != nil {
		return fmt.Errorf("store the queue estimates: %w", err)
	}
	h.sharedE.Store(&sharedEstimates{read: now, est: est})
	return nil
}

// sharedProgress completes the progress of a request of the shared queue
// read from the store (storedProgress) with what the memory queue gives
// in one process: is_possible, the wait of its processing jobs, and, while
// items wait, its queue position and wait.
func (h *Horde) sharedProgress(ctx context.Context, p *Progress, jobs []Job, now time.Time) error {
	v, err := h.sharedWorkers(ctx, now, sharedWorkersMaxAge)
	if err != nil {
		return err
	}
	h.mu.Lock()
	r := h.parsedRequest(p.Request)
	itemWork := r.itemWork
	possible, _, _ := servable(slices.Values(v.online), r, now)
	h.mu.Unlock()
	p.IsPossible = possible || p.Processing > 0

	longest := 0.0
	for _, j := range jobs {
		w, ok := v.byID[j.WorkerID]
		if j.State != JobProcessing || !ok {
			continue
		}
		perf := throughput(&w) / float64(max(w.Threads, 1))
		longest = math.Max(longest, itemWork/perf-now.Sub(j.StartedAt).Seconds())
	}
	p.WaitTime = int(math.Ceil(longest))
	if p.Waiting == 0 {
		return nil
	}

	est, err := h.estimates(ctx, now)
	if err != nil {
		return err
	}
	if e, ok := est.Requests[p.Request.ID]; ok {
		p.QueuePosition, p.WaitTime = e.Position, max(e.Wait, 0)
		return nil
	}
	// Newer than the table: its place among everything ahead of it.
	if p.QueuePosition, err = h.cfg.Queue.Position(ctx, p.Request.ID, sharedPositionMax); err != nil {
		return fmt.Errorf("queue position of request %s: %w", p.Request.ID, err)
	}
	p.WaitTime = 0
	if tput := offered(v, &p.Request, now); possible && tput > 0 {
		own := itemWork * float64(p.Request.N)
		p.WaitTime = int(math.Ceil(own * float64(p.QueuePosition+1) / tput))
	}
	return nil
}

// offered is the online throughput of the workers (not paused, not in
// maintenance) offering req's model, its best one when it names several;
// of every worker of its kind when it names none.
func offered(v *sharedWorkerView, req *Request, now time.Time) float64 {
	best := 0.0
	models := req.Models
	if len(models) == 0 {
		models = []string{""}
	}
	for _, m := range models {
		sum := 0.0
		for _, ws := range v.online {
			w := &ws.w
			if w.Kind != req.Kind || !w.Online(now) || w.Paused || w.Maintenance || (m != "" && !w.HasModel(m)) {
				continue
			}
			sum += throughput(w)
		}
		best = math.Max(best, sum)
	}
	return best
}

// sharedPerformance is Performance on a shared queue: the queue counts
// (the waiting alchemy forms too) and the past minute from the stored
// estimates, the workers from the store, the same on every process.
func (h *Horde) sharedPerformance(ctx context.Context, now time.Time) (Performance, error) {
	v, err := h.sharedWorkers(ctx, now, sharedWorkersMaxAge)
	if err != nil {
		return Performance{}, err
	}
	est, err := h.estimates(ctx, now)
	if err != nil {
		return Performance{}, err
	}
	var p Performance
	img, txt := totalOf(est.Totals, KindImage, ""), totalOf(est.Totals, KindText, "")
	p.QueuedRequests, p.QueuedMegapixelsteps = img.Items, img.Work
	p.QueuedTextRequests, p.QueuedTokens = txt.Items, txt.Work
	countOnline(&p, slices.Values(v.online), now)
	p.PastMinuteMegapixelsteps = totalOf(est.PastMinute, KindImage, "").Work
	p.PastMinuteTokens = totalOf(est.PastMinute, KindText, "").Work
	p.QueuedForms = est.Forms
	return p, nil
}

// sharedModelQueues is the per-model queue of the stored estimates, for
// Models on a shared queue.
func (h *Horde) sharedModelQueues(ctx context.Context, now time.Time, kind RequestKind) ([]QueuedWork, *sharedWorkerView, error) {
	v, err := h.sharedWorkers(ctx, now, sharedWorkersMaxAge)
	if err != nil {
		return nil, nil, err
	}
	est, err := h.estimates(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	var out []QueuedWork
	for _, b := range est.Buckets {
		if b.Kind == kind && b.Items > 0 {
			out = append(out, b)
		}
	}
	return out, v, nil
}
