package horde

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The workers on a shared queue (Config.Queue): each process keeps in
// memory the workers that popped on it, but what every process must agree
// on (who is online anywhere, for is_possible, the ETA and
// /status/performance; the counters a worker page shows) is read from the
// database, where every process writes what it saw:
//
//   - a worker's capabilities when they change (its first pop on a process
//     included), at once, in the pop;
//   - its last pop, at once on its first pop on a process, then at least
//     every workerTouchEvery (the pop, or the sweep for the last pops),
//     through SharedQueue.TouchWorkers, which also counts its uptime from
//     the stored last pop: once, however many processes see its pops;
//   - its counters as increments in the job's own transaction (store).
//
// A process reads every worker at most every sharedWorkersMaxAge
// (sharedWorkers), and at once after it changed one itself.

// sharedWorkersMaxAge is how old a process's copy of the stored workers
// may be when it is read.
const sharedWorkersMaxAge = 2 * time.Second

// workerTouchEvery is how often a process records a worker's latest pop
// on a shared queue: the stored last pop trails the true one by at most
// this (plus a sweep interval), far under StaleAfter.
const workerTouchEvery = 30 * time.Second

// sharedWorkerView is every stored worker as one process read them.
type sharedWorkerView struct {
	at   time.Time         // when read (the Horde's clock)
	byID map[string]Worker // every worker, as stored
	// online are the workers online at at, as matching sees them: the
	// stored ones, with what a pop announces but the store does not keep
	// (limit_max_steps, extra_slow_worker, max_tiles) from this process's
	// memory when it saw them pop.
	online []*workerState
}

// sharedWorkers returns the stored workers, read again when the copy is
// older than maxAge (or from before now, or dropped after a change here).
// Only on a shared queue.
func (h *Horde) sharedWorkers(ctx context.Context, now time.Time, maxAge time.Duration) (*sharedWorkerView, error) {
	fresh := func(v *sharedWorkerView) bool {
		return v != nil && !now.Before(v.at) && now.Sub(v.at) < maxAge
	}
	if v := h.sharedW.Load(); fresh(v) {
		return v, nil
	}
	h.sharedWMu.Lock()
	defer h.sharedWMu.Unlock()
	if v := h.sharedW.Load(); fresh(v) {
		return v, nil
	}
	ws, err := h.store.Workers(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the workers: %w", err)
	}
	v := &sharedWorkerView{at: now, byID: make(map[string]Worker, len(ws))}
	h.mu.Lock()
	for _, w := range ws {
		v.byID[w.ID] = w
		local := h.workers[w.ID]
		if local != nil && local.w.LastPop.After(w.LastPop) {
			w.LastPop = local.w.LastPop // popped here since it was recorded
		}
		if !w.Online(now) {
			continue
		}
		st := &workerState{w: w}
		st.setBlacklist(w.Blacklist)
		st.validatedBackend = IsValidatedBackend(w.BridgeAgent)
		if local != nil {
			st.limitMaxSteps, st.stepLimit, st.extraSlow, st.maxTiles = local.limitMaxSteps, local.stepLimit, local.extraSlow, local.maxTiles
		}
		v.online = append(v.online, st)
	}
	h.mu.Unlock()
	h.sharedW.Store(v)
	return v, nil
}

// forgetSharedWorkers drops this process's copy of the stored workers,
// after it changed one, so that it reads its own change.
func (h *Horde) forgetSharedWorkers() {
	if h.shared() {
		h.sharedW.Store(nil)
	}
}

// forStore is w as this process saves it (SaveWorker). On a shared queue
// its last pop and uptime are left to TouchWorkers (SaveWorker keeps the
// larger of the stored and the saved ones, so zeros keep the stored):
// saving a later last pop than recorded would lose the uptime in between.
func (h *Horde) forStore(w Worker) Worker {
	if h.shared() {
		w.LastPop, w.UptimeSeconds = time.Time{}, 0
	}
	return w
}

// countUptime adds the time since a worker's last pop to its uptime when
// it was online (a worker popping at now); on a shared queue
// TouchWorkers counts it in the database instead. Caller holds h.mu.
func (h *Horde) countUptime(ws *workerState, now time.Time) {
	w := &ws.w
	if h.shared() || !w.Online(now) {
		return
	}
	ws.uptimeRem += int64(now.Sub(w.LastPop))
	w.UptimeSeconds += ws.uptimeRem / int64(time.Second)
	ws.uptimeRem %= int64(time.Second)
}

// announceShared writes, on a shared queue, what a pop at now announced
// that the other processes must see: the worker's capabilities when they
// changed, its pop when it is the first on this process or the last
// recorded is workerTouchEvery old. A failed write is logged and retried
// by the sweep; the pop goes on. What only a finish changed (its counters,
// which the store counts as it finishes, and its speed) waits for the
// sweep: saved on every pop, it made each pop of a busy worker wait for a
// write of its own, one after another (measured: most of a pop's time on
// PostgreSQL was spent waiting to save its worker).
func (h *Horde) announceShared(ctx context.Context, ws *workerState, now time.Time) {
	h.mu.Lock()
	var save *Worker
	if ws.announced {
		w := h.forStore(ws.snapshot())
		save = &w
		ws.dirty, ws.announced, ws.savedAt, ws.savedSpeed = false, false, now, w.Performance
	}
	first := ws.touched.IsZero()
	touch := first || now.Sub(ws.touched) >= workerTouchEvery
	prev := ws.touched
	if touch {
		ws.touched = now
	}
	h.mu.Unlock()
	if save != nil {
		if err := h.saveWorker(ctx, *save); err != nil {
			h.log.Error("save a worker's announced capabilities", "worker", ws.w.ID, "err", err)
			h.mu.Lock()
			ws.dirty, ws.announced = true, true
			h.mu.Unlock()
		}
	}
	if touch {
		if err := h.touchWorkers(ctx, map[*workerState]time.Time{ws: now}); err != nil {
			h.log.Error("record a worker's pop", "worker", ws.w.ID, "err", err)
			h.mu.Lock()
			if ws.touched.Equal(now) {
				ws.touched = prev
			}
			h.mu.Unlock()
		}
	}
	if save != nil || first {
		h.forgetSharedWorkers()
	}
}

// speedClassChanged reports whether the worker's speed is news the other
// processes must have at once (their estimates and slow_workers=false read
// it from the store): its first measure, or a step across the slow line,
// since it was last saved. Other moves wait for the sweep. Caller holds h.mu.
func (ws *workerState) speedClassChanged() bool {
	return ws.savedSpeed <= 0 && ws.w.Performance > 0 ||
		slowSpeed(ws.w.Kind, ws.savedSpeed) != slowSpeed(ws.w.Kind, ws.w.Performance)
}

// touchWorkers records pops (TouchWorkers) and takes the uptimes the
// store counted into memory.
func (h *Horde) touchWorkers(ctx context.Context, pops map[*workerState]time.Time) error {
	byID := make(map[string]time.Time, len(pops))
	for ws, at := range pops {
		byID[ws.w.ID] = at
	}
	ups, err := h.cfg.Queue.TouchWorkers(ctx, byID)
	if err != nil {
		return err
	}
	h.mu.Lock()
	for ws := range pops {
		if up, ok := ups[ws.w.ID]; ok && up > ws.w.UptimeSeconds {
			ws.w.UptimeSeconds = up
		}
	}
	h.mu.Unlock()
	return nil
}

// touchPopped records, on a shared queue, the last pops this process saw
// and has not recorded for workerTouchEvery (all of them when force): the
// sweep's part of announceShared, so that a worker's last pops before it
// stops count.
func (h *Horde) touchPopped(ctx context.Context, now time.Time, force bool) error {
	if !h.shared() {
		return nil
	}
	h.mu.Lock()
	due := make(map[*workerState]time.Time)
	prev := make(map[*workerState]time.Time)
	for _, ws := range h.workers {
		if ws.w.LastPop.After(ws.touched) && (force || now.Sub(ws.touched) >= workerTouchEvery) {
			due[ws], prev[ws] = ws.w.LastPop, ws.touched
			ws.touched = ws.w.LastPop
		}
	}
	h.mu.Unlock()
	if len(due) == 0 {
		return nil
	}
	if err := h.touchWorkers(ctx, due); err != nil {
		h.mu.Lock()
		for ws, at := range due {
			if ws.touched.Equal(at) {
				ws.touched = prev[ws]
			}
		}
		h.mu.Unlock()
		return fmt.Errorf("record the workers' pops: %w", err)
	}
	return nil
}

// withStored is w (this process's copy) with what the database knows
// better: the counters every process adds to, the uptime, the latest
// recorded pop, the throughput. Only on a shared queue.
func withStored(w Worker, v *sharedWorkerView) Worker {
	s, ok := v.byID[w.ID]
	if !ok {
		return w
	}
	w.Fulfilled = max(w.Fulfilled, s.Fulfilled)
	w.Dropped = max(w.Dropped, s.Dropped)
	w.KudosEarned = max(w.KudosEarned, s.KudosEarned)
	w.UptimeSeconds = max(w.UptimeSeconds, s.UptimeSeconds)
	if s.LastPop.After(w.LastPop) {
		w.LastPop = s.LastPop
	}
	if s.Performance > 0 {
		w.Performance = s.Performance
	}
	w.Maintenance, w.Paused = s.Maintenance, s.Paused
	return w
}

// sharedWorkerList is Workers on a shared queue: this process's workers
// with what is stored, and the workers only other processes have seen.
func (h *Horde) sharedWorkerList(ctx context.Context, kind RequestKind) ([]Worker, error) {
	v, err := h.sharedWorkers(ctx, h.clock.Now(), sharedWorkersMaxAge)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	out := make([]Worker, 0, len(v.byID))
	for _, ws := range h.workers {
		if kind == "" || ws.w.Kind == kind {
			out = append(out, withStored(ws.snapshot(), v))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(v.byID)) {
		w := v.byID[id]
		if _, local := h.workers[id]; !local && (kind == "" || w.Kind == kind) {
			out = append(out, w)
		}
	}
	h.mu.Unlock()
	return out, nil
}

// sharedWorker is Worker and WorkerByName on a shared queue: the worker
// local (this process's, nil if none), or else the stored one that match
// accepts, with what is stored; ok false if none.
func (h *Horde) sharedWorker(ctx context.Context, local *Worker, match func(Worker) bool) (Worker, bool, error) {
	v, err := h.sharedWorkers(ctx, h.clock.Now(), sharedWorkersMaxAge)
	if err != nil {
		return Worker{}, false, err
	}
	if local != nil {
		return withStored(*local, v), true, nil
	}
	for _, w := range v.byID {
		if match(w) {
			return w, true, nil
		}
	}
	return Worker{}, false, nil
}
