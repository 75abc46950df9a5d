package horde

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The scheduler on a shared queue (Config.Queue): what Pop, SubmitResult,
// Check, Cancel and Sweep do when the waiting queue and the processing jobs
// live in a database several processes share (shared_queue.go).

// popShared is Pop on a shared queue: it claims from the queue of the
// worker's owner and priority users first (every rule applies), then
// (unless the worker is in maintenance) from the buckets of its models and
// the no-model bucket, with the rules of choose and scan (scanner.serves).
func (h *Horde) popShared(ctx context.Context, ws *workerState, p *PopRequest, skipped Skipped, now time.Time) ([]Assignment, Skipped, error) {
	h.mu.Lock()
	s := scanner{h: h, ws: ws, upfront: p.RequireUpfrontKudos, budget: h.cfg.PopScanLimit}
	s.first = h.firstUsers(ws, p)
	kind, maintenance := ws.w.Kind, ws.w.Maintenance
	models := append(slices.Clone(ws.w.Models), "")
	h.mu.Unlock()

	var chosen *openRequest
	choose := func(firstTier bool) func(Request, []int) []Job {
		return func(req Request, waiting []int) []Job {
			h.mu.Lock()
			defer h.mu.Unlock()
			if s.budget <= 0 || len(waiting) == 0 {
				return nil
			}
			if !firstTier && slices.Contains(s.first, req.UserID) {
				return nil // examined in the first tier already
			}
			s.budget--
			r := h.parsedRequest(req)
			if _, ok := h.balances[req.UserID]; !ok && s.upfront {
				h.balances[req.UserID] = req.Priority // their balance when they asked
			}
			if !s.serves(r, firstTier) {
				return nil
			}
			n := min(batchSize(ws, r, p.Amount), len(waiting))
			model := pickModel(&ws.w, &r.req)
			jobs := make([]Job, 0, n)
			for _, i := range waiting[:n] {
				jobs = append(jobs, newJob(r, ws, model, i, now))
			}
			chosen = r
			return jobs
		}
	}
	budget := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return s.budget
	}
	// Both tiers in one transaction: the first usually finds nothing (an
	// owner seldom waits for their own worker), and a transaction of its
	// own cost every pop two more round trips and another turn of the writer.
	tiers := []ClaimTier{{Query: ClaimQuery{Kind: kind, Users: s.first}, Budget: budget, Choose: choose(true)}}
	if !maintenance {
		tiers = append(tiers, ClaimTier{Query: ClaimQuery{Kind: kind, Models: models}, Budget: budget, Choose: choose(false)})
	}
	jobs, err := h.cfg.Queue.Claim(ctx, tiers...)
	h.mu.Lock()
	defer h.mu.Unlock()
	s.counts.addTo(skipped)
	if err != nil {
		return nil, skipped, fmt.Errorf("claim a job for worker %s: %w", ws.w.ID, err)
	}
	if len(jobs) == 0 {
		h.mu.Unlock()
		n, err := h.cfg.Queue.OtherModels(ctx, kind, models, sharedOtherModelsMax)
		h.mu.Lock()
		if err != nil {
			return nil, skipped, fmt.Errorf("count the requests for other models: %w", err)
		}
		if n > 0 {
			skipped[SkipModels] += n
		}
		return nil, skipped, nil
	}
	h.stats.of(kind).jobsPopped.Add(int64(len(jobs)))
	chosen.state = RequestProcessing
	out := make([]Assignment, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, Assignment{Job: j, Request: chosen.view(), TTL: chosen.ttl})
	}
	return out, skipped, nil
}

// parsedRequest is the in-memory form of a request of the shared queue, for
// matching: built once per request and kept (its parameters never change),
// with the state and faults req has now. Caller holds h.mu.
func (h *Horde) parsedRequest(req Request) *openRequest {
	r := h.parsed[req.ID]
	if r == nil {
		r = h.newOpenRequest(req)
		h.keepParsed(r)
	}
	r.state, r.faults = req.State, req.Faults
	return r
}

// keepParsed caches r for parsedRequest. Caller holds h.mu.
func (h *Horde) keepParsed(r *openRequest) {
	if len(h.parsed) >= sharedCacheMax {
		clear(h.parsed)
	}
	h.parsed[r.req.ID] = r
}

// openShared is the in-memory view of processing job j of the shared
// queue, read from the store, for a submit or an abort in this process
// (whichever process popped it): a request of its own (the counts of one
// submit are not another's), its item processing, its worker known. The
// store decides what the counts cannot (is this the request's last item?).
func (h *Horde) openShared(ctx context.Context, j Job) (*openJob, error) {
	req, err := h.store.Request(ctx, j.RequestID)
	if err != nil {
		return nil, fmt.Errorf("read request %s of job %s: %w", j.RequestID, j.ID, err)
	}
	if err := h.knowWorker(ctx, j.WorkerID); err != nil {
		return nil, err
	}
	pending, hasPending, err := h.cfg.Queue.Pending(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.newOpenRequest(req)
	r.state, r.faults, r.restarted = req.State, req.Faults, req.Faults
	if j.Item < 0 || j.Item >= len(r.items) {
		return nil, fmt.Errorf("job %s names item %d of request %s, which has %d", j.ID, j.Item, req.ID, len(r.items))
	}
	r.items[j.Item] = ItemProcessing
	r.processing = 1
	// stylePaid stays false: the style fee's ledger key names the request,
	// so the store records it once whichever item offers it first.
	oj := &openJob{job: j, r: r, busy: true}
	if hasPending {
		oj.pending = &pending
	}
	r.addJob(oj)
	return oj, nil
}

// sharedJob is openShared of job id if it is processing; nil if it is not
// (or unknown).
func (h *Horde) sharedJob(ctx context.Context, id string) (*openJob, error) {
	j, err := h.store.Job(ctx, id)
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job %s: %w", id, err)
	}
	if j.State != JobProcessing {
		return nil, nil
	}
	return h.openShared(ctx, j)
}

// claimShared is claimJob on a shared queue: the job is read from the store.
func (h *Horde) claimShared(ctx context.Context, c Credential, jobID string) (*openJob, error) {
	oj, err := h.sharedJob(ctx, jobID)
	if err != nil {
		return nil, err
	}
	if oj == nil {
		return nil, h.closedJobError(ctx, jobID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.maySubmit(c, oj); err != nil {
		return nil, err
	}
	if oj.pending != nil {
		return nil, Errorf(KindConflict, "DuplicateGen", "this job was already submitted and waits for its upload")
	}
	return oj, nil
}

// cancelShared ends a request of the shared queue as cancelled, whichever
// process accepted it. One already finished changes nothing.
func (h *Horde) cancelShared(ctx context.Context, id string) error {
	req, err := h.store.Request(ctx, id)
	if notFound(err) {
		return nil // Status says so
	}
	if err != nil {
		return fmt.Errorf("read request %s: %w", id, err)
	}
	if req.State.Finished() {
		return nil
	}
	err = h.store.EndRequest(ctx, id, RequestCancelled, "cancelled by the requester", h.clock.Now())
	switch {
	case duplicate(err):
		return nil // finished meanwhile, here or elsewhere
	case err != nil:
		return fmt.Errorf("cancel request %s: %w", id, err)
	}
	h.mu.Lock()
	delete(h.parsed, id)
	h.mu.Unlock()
	h.stats.of(req.Kind).requestEnded(RequestCancelled)
	h.log.Info("request ended", "request", id, "state", RequestCancelled, "reason", "cancelled by the requester")
	return nil
}

// abortOverdueShared aborts the jobs of the shared queue past their
// deadline, whichever process popped them: each abort is a conditional
// write (FailJob of a job still processing), so of several processes
// sweeping at once one acts and the others find it done (KindConflict).
func (h *Horde) abortOverdueShared(ctx context.Context, now time.Time) error {
	jobs, err := h.cfg.Queue.Overdue(ctx, now, sharedOverdueBatch)
	if err != nil {
		return fmt.Errorf("read overdue jobs: %w", err)
	}
	var errs []error
	for _, j := range jobs {
		oj, err := h.openShared(ctx, j)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		state := JobAborted
		if oj.pending != nil { // submitted "R2" and never uploaded: a fault of the worker's
			state = JobFaulted
		}
		h.log.Info("job past its deadline "+string(state), "job", j.ID, "request", j.RequestID, "worker", j.WorkerID)
		if err := h.failJob(ctx, oj, state); err != nil && !IsKind(err, KindConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// knowWorker makes sure worker id (created by another process, perhaps) is
// in memory, reading the workers from the store if it is not.
func (h *Horde) knowWorker(ctx context.Context, id string) error {
	h.mu.Lock()
	_, ok := h.workers[id]
	h.mu.Unlock()
	if ok || id == "" {
		return nil
	}
	return h.loadWorkers(ctx)
}

// expireShared ends the requests of the shared queue nobody popped for
// ExpireAfter, whichever process accepted them.
func (h *Horde) expireShared(ctx context.Context, now time.Time) error {
	ids, err := h.cfg.Queue.Expire(ctx, now.Add(-ExpireAfter), now, sharedOverdueBatch)
	if err != nil {
		return fmt.Errorf("expire requests: %w", err)
	}
	for _, id := range ids {
		h.mu.Lock()
		r := h.parsed[id]
		delete(h.parsed, id)
		h.mu.Unlock()
		if r != nil {
			h.stats.of(r.req.Kind).requestEnded(RequestFaulted)
		}
		h.log.Info("request ended", "request", id, "state", RequestFaulted, "reason", "expired")
	}
	return nil
}

// sweepShared is the shared queue's periodic work: the aborts and expiry
// of requests and alchemy forms, and the deferred R2 submits' polls of the
// bucket, whichever process accepted, popped or deferred them; nothing
// without a shared queue.
func (h *Horde) sweepShared(ctx context.Context, now time.Time) error {
	if !h.shared() {
		return nil
	}
	return errors.Join(h.abortOverdueShared(ctx, now), h.expireShared(ctx, now),
		h.abortOverdueFormsShared(ctx, now), h.expireInterrogationsShared(ctx, now),
		h.pollUploadsShared(ctx, now), h.refreshSharedETA(ctx, now))
}
