package horde

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// workerSaveEvery is how often an online worker's last pop and uptime are
// saved when nothing else about it changed.
const workerSaveEvery = 10 * time.Minute

// balanceRefreshEvery is how often the requesters' balances used by
// require_upfront_kudos pops are re-read (they also follow this horde's own
// ledger entries as they are written).
const balanceRefreshEvery = 30 * time.Second

// The periodic sweeps come in two parts, for several processes sharing one
// PostgreSQL database (Config.Queue):
//
//   - SweepShared is the shared queue's: it aborts the jobs and alchemy
//     forms past their deadline, expires the requests and interrogations
//     nobody popped, and asks the bucket for the uploads of deferred R2
//     submits, whichever process popped, accepted or deferred them. Each is
//     a conditional write, so it is safe
//     in every process, but one process doing it is enough: cmd/hordebot
//     runs it (RunShared) only in the holder of the "sweeps" lease, and the
//     next holder finds what a dead one left.
//   - SweepLocal is what each process does for itself, on what only its
//     memory has: the memory queue's aborts and expiry (SQLite, one process;
//     on a shared queue it holds nothing), request endings whose write
//     failed, the uptime bonuses and the saves of the workers it saw pop
//     (a slot's entry key names the worker and the slot, so two processes
//     that saw one worker pay it once), the balances cached for
//     require_upfront_kudos pops, the ETA table, and (one process, the
//     memory queue) the deferred R2 submits and the alchemy forms. It runs
//     in every process (RunLocal).
//
// Stale workers need no sweep: a worker is online while its last pop is
// within StaleAfter (Worker.Online), read whenever asked.

// Run sweeps periodically (SweepLocal and SweepShared: a process alone on
// its queue) until ctx ends, then saves what is unsaved and returns nil.
func (h *Horde) Run(ctx context.Context) error {
	return h.run(ctx, h.Sweep, true)
}

// RunLocal runs SweepLocal periodically until ctx ends, then saves what is
// unsaved and returns nil. Every process runs it.
func (h *Horde) RunLocal(ctx context.Context) error {
	return h.run(ctx, h.SweepLocal, true)
}

// RunShared runs SweepShared periodically until ctx ends and returns nil;
// on a queue that is not shared it returns at once. One process of those
// sharing the queue needs to run it (the holder of a lease).
func (h *Horde) RunShared(ctx context.Context) error {
	if !h.shared() {
		return nil
	}
	return h.run(ctx, h.SweepShared, false)
}

// run calls sweep every SweepInterval until ctx ends, then, when flush, saves
// the workers changed in memory.
func (h *Horde) run(ctx context.Context, sweep func(context.Context) error, flush bool) error {
	t := time.NewTicker(h.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if !flush {
				return nil
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := h.saveWorkers(fctx, h.clock.Now(), true); err != nil {
				h.log.Error("save workers at shutdown", "err", err)
			}
			if err := h.touchPopped(fctx, h.clock.Now(), true); err != nil {
				h.log.Error("record the workers' pops at shutdown", "err", err)
			}
			return nil
		case <-t.C:
			if err := sweep(ctx); err != nil && ctx.Err() == nil {
				h.log.Error("sweep", "err", err)
			}
		}
	}
}

// Sweep does one round of the periodic work at the clock's now, both parts
// (SweepShared, then SweepLocal). It carries on past a failure and returns
// every error joined.
func (h *Horde) Sweep(ctx context.Context) error {
	return errors.Join(h.SweepShared(ctx), h.SweepLocal(ctx))
}

// SweepShared does one round of the shared queue's periodic work at the
// clock's now: it aborts its jobs and alchemy forms past their deadline
// (their items and forms wait again), expires its requests and
// interrogations not popped for ExpireAfter, and settles the deferred R2
// submits whose upload is in the bucket, whichever process popped, accepted
// or deferred them. Without a shared queue it does nothing.
func (h *Horde) SweepShared(ctx context.Context) error {
	return h.sweepShared(ctx, h.clock.Now())
}

// SweepLocal does one round of this process's own periodic work at the
// clock's now: it aborts the memory queue's jobs past their deadline,
// expires its requests not popped for ExpireAfter, retries failed request
// endings, pays uptime bonuses, saves changed workers, refreshes balances
// and the ETA table, looks in the upload bucket for deferred R2 submits
// (direct_uploads.go) and sweeps the alchemy queue. It carries on past a
// failure and returns every error joined.
func (h *Horde) SweepLocal(ctx context.Context) error {
	now := h.clock.Now()
	errs := []error{
		h.abortOverdue(ctx, now),
		h.expireRequests(ctx, now),
		h.retryEnds(ctx),
		h.payUptime(ctx, now),
		h.saveWorkers(ctx, now, false),
		h.touchPopped(ctx, now, false),
		h.refreshBalances(ctx, now),
		h.pollUploads(ctx, now),
		h.abortOverdueForms(ctx, now),
		h.expireInterrogations(ctx, now),
	}
	h.refreshETA(now)
	return errors.Join(errs...)
}

// abortOverdue fails the processing jobs past their deadline as aborted,
// or as faulted when their worker submitted "R2" and never uploaded.
func (h *Horde) abortOverdue(ctx context.Context, now time.Time) error {
	h.mu.Lock()
	var overdue []*openJob
	for _, oj := range h.jobs {
		if !oj.busy && !oj.job.Deadline.After(now) {
			oj.busy = true
			overdue = append(overdue, oj)
		}
	}
	h.mu.Unlock()
	var errs []error
	for _, oj := range overdue {
		state := JobAborted
		if oj.pending != nil { // submitted "R2" and never uploaded: a fault of the worker's
			state = JobFaulted
		}
		h.log.Info("job past its deadline "+string(state), "job", oj.job.ID, "request", oj.r.req.ID, "worker", oj.job.WorkerID)
		if err := h.failJob(ctx, oj, state); err != nil && !IsKind(err, KindConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// expireRequests ends as faulted the requests whose waiting items nobody
// popped for ExpireAfter.
func (h *Horde) expireRequests(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-ExpireAfter)
	h.mu.Lock()
	var stale []*openRequest
	h.q.activity.Ascend(func(e actEntry) bool {
		if e.at > cutoff.UnixNano() {
			return false
		}
		if e.r.processing == 0 {
			stale = append(stale, e.r)
		}
		return true
	})
	h.mu.Unlock()
	var errs []error
	for _, r := range stale {
		if err := h.expire(ctx, r, cutoff); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *Horde) expire(ctx context.Context, r *openRequest, cutoff time.Time) error {
	r.finishMu.Lock()
	defer r.finishMu.Unlock()
	h.mu.Lock()
	if h.reqs[r.req.ID] != r || r.ending || r.processing > 0 || r.waiting == 0 || r.activity > cutoff.UnixNano() {
		h.mu.Unlock()
		return nil // popped or ended meanwhile
	}
	r.ending = true
	h.q.remove(r)
	h.mu.Unlock()
	return h.endRequest(ctx, r, RequestFaulted, "expired")
}

// retryEnds retries request endings whose write failed.
func (h *Horde) retryEnds(ctx context.Context) error {
	h.mu.Lock()
	pending := maps.Clone(h.pendingEnds)
	h.mu.Unlock()
	var errs []error
	for r, p := range pending {
		r.finishMu.Lock()
		h.mu.Lock()
		open := h.reqs[r.req.ID] == r && !r.ending
		if open {
			r.ending = true
			h.q.remove(r)
		} else {
			delete(h.pendingEnds, r)
		}
		h.mu.Unlock()
		if open {
			if err := h.endRequest(ctx, r, p.state, p.reason); err != nil {
				errs = append(errs, err)
			}
		}
		r.finishMu.Unlock()
	}
	return errors.Join(errs...)
}

// uptimeRewardWindow is how recently a worker must have finished a job for
// its online time to earn the uptime bonus: one reward slot.
const uptimeRewardWindow = uptimeSlot * time.Second

// noteFinished records that a worker finished a job at, for earnsUptime.
func (h *Horde) noteFinished(workerID string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ws := h.workers[workerID]; ws != nil && at.After(ws.lastFinished) {
		ws.lastFinished = at
	}
}

// earnsUptime reports whether a worker's online time earns the uptime bonus
// at now. As on the AI Horde, being online is not enough: the worker must
// be neither paused nor in maintenance, and must have finished a job with
// an ok result within the last reward window (10 minutes), so that workers
// serving models nobody asks for (or reporting every job censored) farm
// nothing. Caller holds h.mu.
func (ws *workerState) earnsUptime(now time.Time) bool {
	return !ws.w.Paused && !ws.w.Maintenance &&
		!ws.lastFinished.IsZero() && now.Sub(ws.lastFinished) <= uptimeRewardWindow
}

// payUptime pays the uptime bonus (kudos.PaymentRules.UptimeEntry) to the owners of workers that earn it
// (earnsUptime) for every 10 online minutes. A slot that does not earn it is
// passed over for good. The entry key names the worker and the slot, so a
// slot is never paid twice, even across restarts.
func (h *Horde) payUptime(ctx context.Context, now time.Time) error {
	if h.pay.UptimeBonus <= 0 {
		return nil
	}
	type paid struct {
		ws   *workerState
		prev int64
	}
	h.mu.Lock()
	var entries []kudos.Entry
	var marks []paid
	for _, ws := range h.workers {
		slots := ws.w.UptimeSeconds / uptimeSlot
		if slots <= ws.uptimePaid {
			continue
		}
		marks = append(marks, paid{ws: ws, prev: ws.uptimePaid})
		if ws.earnsUptime(now) {
			for s := ws.uptimePaid + 1; s <= slots; s++ {
				if e, ok := h.pay.UptimeEntry(ws.w.OwnerID, ws.w.ID, s, now); ok {
					entries = append(entries, e)
				}
			}
		}
		ws.uptimePaid = slots
		ws.dirty = true // the uptime counter it was paid for must be saved
	}
	h.mu.Unlock()
	if len(entries) == 0 {
		return nil
	}
	if _, err := h.store.Apply(ctx, entries...); err != nil {
		h.mu.Lock()
		for _, m := range marks {
			m.ws.uptimePaid = m.prev
		}
		h.mu.Unlock()
		return fmt.Errorf("pay uptime bonuses: %w", err)
	}
	return nil
}

// saveWorkers writes the workers changed in memory (and, every
// workerSaveEvery, the last pop of online ones; all when force).
func (h *Horde) saveWorkers(ctx context.Context, now time.Time, force bool) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	var due []*workerState
	var snaps []Worker
	for _, ws := range h.workers {
		if ws.dirty || force || (ws.w.LastPop.After(ws.savedAt) && now.Sub(ws.savedAt) >= workerSaveEvery) {
			due = append(due, ws)
			ws.dirty, ws.announced = false, false
			ws.savedAt, ws.savedSpeed = now, ws.w.Performance
			snaps = append(snaps, h.forStore(ws.snapshot()))
		}
	}
	h.mu.Unlock()
	var errs []error
	for i, w := range snaps {
		if err := h.store.SaveWorker(ctx, w); err != nil {
			h.mu.Lock()
			due[i].dirty = true
			due[i].announced = true // a pop on the shared queue tries again at once
			h.mu.Unlock()
			errs = append(errs, fmt.Errorf("save worker %s: %w", w.ID, err))
		}
	}
	return errors.Join(errs...)
}

// saveWorker writes one worker now, unless it was deleted meanwhile.
func (h *Horde) saveWorker(ctx context.Context, w Worker) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	_, exists := h.workers[w.ID]
	h.mu.Unlock()
	if !exists {
		return nil
	}
	if err := h.store.SaveWorker(ctx, h.forStore(w)); err != nil {
		return fmt.Errorf("save worker %s: %w", w.ID, err)
	}
	return nil
}

// refreshBalances re-reads the balances of users with queued requests while
// some worker pops with require_upfront_kudos.
func (h *Horde) refreshBalances(ctx context.Context, now time.Time) error {
	h.mu.Lock()
	if h.upfrontAt.IsZero() || now.Sub(h.upfrontAt) > StaleAfter || now.Sub(h.balancesAt) < balanceRefreshEvery {
		h.mu.Unlock()
		return nil
	}
	users := make(map[int64]bool)
	for k := range h.q.users {
		users[k.user] = true
	}
	h.balancesAt = now
	h.mu.Unlock()
	fresh := make(map[int64]int64, len(users))
	for u := range users {
		b, err := h.store.Balance(ctx, u)
		if err != nil {
			return fmt.Errorf("refresh balance of user %d: %w", u, err)
		}
		fresh[u] = b
	}
	h.mu.Lock()
	for u, b := range fresh {
		h.balances[u] = b
	}
	h.mu.Unlock()
	return nil
}
