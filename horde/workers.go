package horde

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MaxWorkerInfoLength bounds a worker's info text.
const MaxWorkerInfoLength = 1000

// Workers returns every worker (online or not) of a kind ("" for all), by name.
func (h *Horde) Workers(ctx context.Context, kind RequestKind) ([]Worker, error) {
	if h.shared() {
		out, err := h.sharedWorkerList(ctx, kind)
		if err != nil {
			return nil, err
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	}
	h.mu.Lock()
	out := make([]Worker, 0, len(h.workers))
	for _, ws := range h.workers {
		if kind == "" || ws.w.Kind == kind {
			out = append(out, ws.snapshot())
		}
	}
	h.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Worker returns one worker by id; KindNotFound if none.
func (h *Horde) Worker(ctx context.Context, id string) (Worker, error) {
	w, ok, err := h.findWorker(ctx, func() *workerState { return h.workers[id] }, func(w Worker) bool { return w.ID == id })
	if err != nil || ok {
		return w, err
	}
	return Worker{}, NotFoundf("WorkerNotFound", "no worker has id %s", id).InCase("id").With("ID", id)
}

// WorkerByName returns one worker by name; KindNotFound if none.
func (h *Horde) WorkerByName(ctx context.Context, name string) (Worker, error) {
	trimmed := strings.TrimSpace(name)
	w, ok, err := h.findWorker(ctx, func() *workerState { return h.workerNames[trimmed] }, func(w Worker) bool { return w.Name == trimmed })
	if err != nil || ok {
		return w, err
	}
	return Worker{}, NotFoundf("WorkerNotFound", "no worker is named %q", name).InCase("name").With("Name", QuoteInput(name))
}

// findWorker finds one worker: the one local returns (called under h.mu)
// from this process's memory, and on a shared queue the stored one match
// selects, merged with it (sharedWorker); ok false if neither has it.
func (h *Horde) findWorker(ctx context.Context, local func() *workerState, match func(Worker) bool) (Worker, bool, error) {
	h.mu.Lock()
	var mine *Worker
	if ws := local(); ws != nil {
		w := ws.snapshot()
		mine = &w
	}
	h.mu.Unlock()
	if h.shared() {
		return h.sharedWorker(ctx, mine, match)
	}
	if mine != nil {
		return *mine, true, nil
	}
	return Worker{}, false, nil
}

// RegisterWorker creates a worker for owner and returns its own API key,
// which may act only as this worker (shown once, stored hashed). Worker
// names are unique: a taken name is KindConflict. An owner who already has
// as many workers as TrustConfig allows (3 untrusted, 20 trusted by
// default) is refused: KindForbidden, code TooManyWorkers.
func (h *Horde) RegisterWorker(ctx context.Context, owner User, name string, kind RequestKind) (Worker, string, error) {
	if owner.Anonymous() {
		return Worker{}, "", Errorf(KindForbidden, "AnonForbidden", "the anonymous user cannot run a worker").InCase("worker")
	}
	if owner.Flagged {
		return Worker{}, "", Errorf(KindForbidden, "UserFlagged", "your account is flagged and may not run a worker").InCase("worker")
	}
	name, err := validName("name", name, MaxWorkerNameLength)
	if err != nil {
		return Worker{}, "", err
	}
	if kind != KindImage && kind != KindText && kind != KindAlchemy {
		return Worker{}, "", Invalidf("type", "unknown worker type %q", kind)
	}
	key, err := NewAPIKey()
	if err != nil {
		return Worker{}, "", err
	}
	w := Worker{ID: newID(), Name: name, OwnerID: owner.ID, Kind: kind, Trusted: owner.Trusted, CreatedAt: h.clock.Now()}

	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	_, taken := h.workerNames[name]
	limitErr := h.workerLimit(owner)
	h.mu.Unlock()
	if taken {
		return Worker{}, "", Errorf(KindConflict, "WorkerNameTaken", "a worker named %q already exists", name).With("Name", QuoteInput(name))
	}
	if limitErr != nil {
		return Worker{}, "", limitErr
	}
	if err := h.store.SaveWorker(ctx, w); err != nil {
		if IsKind(err, KindConflict) {
			return Worker{}, "", Errorf(KindConflict, "WorkerNameTaken", "a worker named %q already exists", name).With("Name", QuoteInput(name))
		}
		return Worker{}, "", fmt.Errorf("save worker %q: %w", name, err)
	}
	if err := h.store.SetWorkerKey(ctx, w.ID, HashKey(key)); err != nil {
		if derr := h.store.DeleteWorker(ctx, w.ID); derr != nil {
			h.log.Error("delete worker left without a key", "worker", w.ID, "err", derr)
		}
		return Worker{}, "", fmt.Errorf("set key of worker %q: %w", name, err)
	}
	h.mu.Lock()
	ws := &workerState{w: w, savedAt: w.CreatedAt}
	h.workers[w.ID] = ws
	h.workerNames[w.Name] = ws
	h.mu.Unlock()
	h.forgetSharedWorkers()
	h.log.Info("worker registered", "worker", w.ID, "name", w.Name, "owner", w.OwnerID, "kind", w.Kind)
	return w, key, nil
}

// workerLimit refuses a new worker for owner when they already have as many
// as their trust allows. Caller holds h.mu; creators hold h.wmu too, so that
// two concurrent creations cannot both pass.
func (h *Horde) workerLimit(owner User) error {
	limit := h.cfg.Trust.maxWorkers(owner.Trusted)
	if limit < 0 {
		return nil
	}
	n := 0
	for _, ws := range h.workers {
		if ws.w.OwnerID == owner.ID {
			n++
		}
	}
	if n < limit {
		return nil
	}
	if owner.Trusted {
		return Errorf(KindForbidden, "TooManyWorkers", "you already have %d workers, the most a member may run; delete one to add another", n).
			InCase("trusted").With("Count", n)
	}
	return Errorf(KindForbidden, "TooManyWorkers", "you already have %d workers, the most an untrusted member may run; delete one to add another, or earn trust to run up to %d",
		n, h.cfg.Trust.maxWorkers(true)).InCase("untrusted").With("Count", n).With("Max", h.cfg.Trust.maxWorkers(true))
}

// RotateWorkerKey replaces a worker's key; only its owner may.
func (h *Horde) RotateWorkerKey(ctx context.Context, by User, workerID string) (string, error) {
	h.mu.Lock()
	ws := h.workers[workerID]
	var owner int64
	if ws != nil {
		owner = ws.w.OwnerID
	}
	h.mu.Unlock()
	if ws == nil {
		return "", NotFoundf("WorkerNotFound", "no worker has id %s", workerID)
	}
	if owner != by.ID || by.Anonymous() {
		return "", Errorf(KindForbidden, "WrongCredentials", "only the worker's owner may replace its key")
	}
	key, err := NewAPIKey()
	if err != nil {
		return "", err
	}
	if err := h.store.SetWorkerKey(ctx, workerID, HashKey(key)); err != nil {
		return "", fmt.Errorf("set key of worker %s: %w", workerID, err)
	}
	return key, nil
}

// UpdateWorker changes a worker; its owner may set Maintenance, Name, Info;
// moderators may also set Paused. Others: KindForbidden.
func (h *Horde) UpdateWorker(ctx context.Context, by User, workerID string, u WorkerUpdate) (Worker, error) {
	if u.Name != nil {
		name, err := validName("name", *u.Name, MaxWorkerNameLength)
		if err != nil {
			return Worker{}, err
		}
		u.Name = &name
	}
	if u.Info != nil && len(*u.Info) > MaxWorkerInfoLength {
		return Worker{}, Invalidf("info", "the info is longer than %d characters", MaxWorkerInfoLength)
	}

	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	ws := h.workers[workerID]
	if ws == nil {
		h.mu.Unlock()
		return Worker{}, NotFoundf("WorkerNotFound", "no worker has id %s", workerID)
	}
	isOwner := ws.w.OwnerID == by.ID && !by.Anonymous()
	switch {
	case !isOwner && !by.Moderator:
		h.mu.Unlock()
		return Worker{}, Errorf(KindForbidden, "WrongCredentials", "only the worker's owner or a moderator may change it")
	case u.Paused != nil && !by.Moderator:
		h.mu.Unlock()
		return Worker{}, Errorf(KindForbidden, "NotModerator", "only moderators may pause a worker")
	}
	if u.Name != nil {
		if other := h.workerNames[*u.Name]; other != nil && other != ws {
			h.mu.Unlock()
			return Worker{}, Errorf(KindConflict, "WorkerNameTaken", "a worker named %q already exists", *u.Name).With("Name", QuoteInput(*u.Name))
		}
	}
	next := ws.snapshot()
	applyWorkerUpdate(&next, u)
	h.mu.Unlock()

	if err := h.store.SaveWorker(ctx, h.forStore(next)); err != nil {
		if IsKind(err, KindConflict) {
			return Worker{}, Errorf(KindConflict, "WorkerNameTaken", "a worker named %q already exists", next.Name).With("Name", QuoteInput(next.Name))
		}
		return Worker{}, fmt.Errorf("save worker %s: %w", workerID, err)
	}

	h.forgetSharedWorkers()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.workers[workerID] != ws {
		return Worker{}, NotFoundf("WorkerNotFound", "no worker has id %s", workerID)
	}
	if u.Name != nil && *u.Name != ws.w.Name {
		delete(h.workerNames, ws.w.Name)
		h.workerNames[*u.Name] = ws
	}
	if u.Maintenance != nil && !*u.Maintenance {
		ws.dropStreak = 0
	}
	applyWorkerUpdate(&ws.w, u)
	return ws.snapshot(), nil
}

func applyWorkerUpdate(w *Worker, u WorkerUpdate) {
	if u.Maintenance != nil {
		w.Maintenance = *u.Maintenance
	}
	if u.Paused != nil {
		w.Paused = *u.Paused
	}
	if u.Name != nil {
		w.Name = *u.Name
	}
	if u.Info != nil {
		w.Info = *u.Info
	}
}

// DeleteWorker deletes a worker; its owner or a moderator may. Its
// processing jobs are aborted and their items wait again.
func (h *Horde) DeleteWorker(ctx context.Context, by User, workerID string) error {
	h.wmu.Lock()
	h.mu.Lock()
	ws := h.workers[workerID]
	if ws == nil {
		h.mu.Unlock()
		h.wmu.Unlock()
		return NotFoundf("WorkerNotFound", "no worker has id %s", workerID)
	}
	if (ws.w.OwnerID != by.ID || by.Anonymous()) && !by.Moderator {
		h.mu.Unlock()
		h.wmu.Unlock()
		return Errorf(KindForbidden, "WrongCredentials", "only the worker's owner or a moderator may delete it")
	}
	h.mu.Unlock()

	err := h.store.DeleteWorker(ctx, workerID)
	if err != nil && !errors.Is(err, ErrNotFound) && !IsKind(err, KindNotFound) {
		h.wmu.Unlock()
		return fmt.Errorf("delete worker %s: %w", workerID, err)
	}
	h.mu.Lock()
	delete(h.workers, workerID)
	if h.workerNames[ws.w.Name] == ws {
		delete(h.workerNames, ws.w.Name)
	}
	var orphans []*openJob
	for _, oj := range h.jobs {
		if oj.job.WorkerID == workerID && !oj.busy {
			oj.busy = true
			orphans = append(orphans, oj)
		}
	}
	h.mu.Unlock()
	h.wmu.Unlock()
	h.forgetSharedWorkers()
	h.log.Info("worker deleted", "worker", workerID, "by", by.ID)

	var errs []error
	if h.shared() {
		jobs, err := h.cfg.Queue.WorkerJobs(ctx, workerID)
		if err != nil {
			errs = append(errs, fmt.Errorf("read jobs of deleted worker %s: %w", workerID, err))
		}
		for _, j := range jobs {
			oj, err := h.openShared(ctx, j)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			orphans = append(orphans, oj)
		}
	}
	for _, oj := range orphans {
		if err := h.failJob(ctx, oj, JobAborted); err != nil && !IsKind(err, KindConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
