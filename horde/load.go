package horde

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// loadWorkers reads every worker and its owner's trust into memory: at
// New, and on a shared queue whenever a worker another process created is
// needed. A worker already in memory is kept as it is.
func (h *Horde) loadWorkers(ctx context.Context) error {
	h.wmu.Lock() // a worker deleted meanwhile is not brought back
	defer h.wmu.Unlock()
	ws, err := h.store.Workers(ctx)
	if err != nil {
		return fmt.Errorf("load workers: %w", err)
	}
	trusted := make(map[int64]bool)
	for _, w := range ws {
		h.mu.Lock()
		_, known := h.workers[w.ID]
		_, named := h.workerNames[w.Name]
		h.mu.Unlock()
		if known || named {
			continue
		}
		t, ok := trusted[w.OwnerID]
		if !ok {
			u, err := h.store.User(ctx, w.OwnerID)
			switch {
			case err == nil:
				t = u.Trusted
			case errors.Is(err, ErrNotFound):
				h.log.Warn("worker owner not found", "worker", w.ID, "owner", w.OwnerID)
			default:
				return fmt.Errorf("load owner %d of worker %s: %w", w.OwnerID, w.ID, err)
			}
			trusted[w.OwnerID] = t
		}
		w.Trusted = t
		st := &workerState{w: w, uptimePaid: w.UptimeSeconds / uptimeSlot, savedAt: h.clock.Now()}
		st.setBlacklist(w.Blacklist)
		st.validatedBackend = IsValidatedBackend(w.BridgeAgent)
		h.mu.Lock()
		if _, known := h.workers[w.ID]; !known {
			h.workers[w.ID] = st
			h.workerNames[w.Name] = st
		}
		h.mu.Unlock()
	}
	return nil
}

// loadQueue rebuilds the queue and the processing jobs from the store's
// snapshot of unfinished work, so that a restart loses nothing.
func (h *Horde) loadQueue(ctx context.Context) error {
	snap, err := h.store.Open(ctx)
	if err != nil {
		return fmt.Errorf("load open requests: %w", err)
	}
	reqs := snap.Requests
	sort.SliceStable(reqs, func(i, j int) bool {
		if !reqs[i].CreatedAt.Equal(reqs[j].CreatedAt) {
			return reqs[i].CreatedAt.Before(reqs[j].CreatedAt)
		}
		return reqs[i].ID < reqs[j].ID
	})
	for _, req := range reqs {
		r := h.newOpenRequest(req)
		r.state = req.State
		r.faults = req.Faults
		r.restarted = req.Faults
		if snap.Done[req.ID] > 0 {
			// Which items are done decides which item numbers (and seeds) remain.
			jobs, err := h.store.Jobs(ctx, req.ID)
			if err != nil {
				return fmt.Errorf("load jobs of request %s: %w", req.ID, err)
			}
			for _, j := range jobs {
				if j.State == JobDone && j.Item >= 0 && j.Item < len(r.items) {
					r.items[j.Item] = ItemDone
				}
			}
		}
		h.reqs[req.ID] = r
	}
	for _, j := range snap.Jobs {
		r := h.reqs[j.RequestID]
		if r == nil || j.Item < 0 || j.Item >= len(r.items) {
			h.log.Warn("processing job of no open request", "job", j.ID, "request", j.RequestID)
			continue
		}
		r.items[j.Item] = ItemProcessing
		oj := &openJob{job: j, r: r}
		if p, ok := snap.Pending[j.ID]; ok {
			oj.pending = &p
		}
		h.jobs[j.ID] = oj
		r.addJob(oj)
		if at := j.StartedAt.UnixNano(); at > r.activity {
			r.activity = at
		}
	}
	users := make(map[int64]bool)
	for _, r := range h.reqs {
		for _, st := range r.items {
			switch st {
			case ItemWaiting:
				r.waiting++
			case ItemProcessing:
				r.processing++
			case ItemDone:
				r.done++
			}
		}
		// A done item paid the style fee (its entries' keys name the
		// request, so were it not, a later item could not pay it twice).
		r.stylePaid = r.done > 0
		h.q.add(r)
		h.hold(r.req.UserID, r.waiting+r.processing, int64(r.waiting+r.processing)*r.itemCost)
		users[r.req.UserID] = true
	}
	for u := range users {
		b, err := h.store.Balance(ctx, u)
		if err != nil {
			return fmt.Errorf("load balance of user %d: %w", u, err)
		}
		h.balances[u] = b
	}
	h.balancesAt = h.clock.Now()
	h.log.Info("horde loaded", "workers", len(h.workers), "open_requests", len(h.reqs),
		"processing_jobs", len(h.jobs), "queued_requests", h.q.requests)
	return nil
}

// newOpenRequest builds the in-memory state of a stored request, all items
// waiting. The caller sets item states and counts, then indexes it.
func (h *Horde) newOpenRequest(req Request) *openRequest {
	h.seq++
	n := max(req.N, 1)
	names := h.q.names
	req.Models = names.modelList(req.Models)
	req.ClientAgent = names.str(req.ClientAgent)
	r := &openRequest{
		req:      req,
		seq:      h.seq,
		itemCost: (req.Kudos + int64(n) - 1) / int64(n),
		itemWork: itemWork(&req),
		items:    make([]ItemState, n),
		activity: req.CreatedAt.UnixNano(),
		state:    RequestWaiting,
	}
	r.setPositive(req.Prompt)
	for i := range r.items {
		r.items[i] = ItemWaiting
	}
	switch len(req.Models) {
	case 0:
		r.buckets = names.bucketList(bucketKey{kind: req.Kind})
	case 1:
		r.buckets = names.bucketList(bucketKey{kind: req.Kind, model: req.Models[0]})
	default:
		seen := make(map[string]bool, len(req.Models))
		for _, m := range req.Models {
			if !seen[m] {
				seen[m] = true
				r.buckets = append(r.buckets, bucketKey{kind: req.Kind, model: m})
			}
		}
	}
	switch {
	case req.Image != nil:
		r.ttl = ImageJobTTL(*req.Image)
		r.seedBase = seedFromString(req.Image.Seed)
		r.steps = float32(accurateSteps(req.Image))
		r.modelSteps = float32(h.lowestAverageSteps(req.Models))
		if p, ok := names.imageParams(req.Image, r.seedBase); ok {
			r.req.Image, r.seedShared = p, true
		}
	default:
		r.ttl = TextJobTTL
	}
	return r
}

// itemWork is one item's work: megapixel-steps for an image, tokens for text.
func itemWork(req *Request) float64 {
	switch {
	case req.Image != nil:
		return float64(req.Image.Width) * float64(req.Image.Height) * float64(req.Image.Steps) / 1e6
	case req.Text != nil:
		return float64(req.Text.MaxLength)
	}
	return 0
}
