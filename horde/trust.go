package horde

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// Defaults of TrustConfig's zero values.
const (
	DefaultTrustAfterKudos    int64 = 5000
	DefaultTrustMinAge              = 7 * 24 * time.Hour
	DefaultSuspicionThreshold int64 = 3
	// As on the AI Horde: an untrusted owner runs at most 3 workers, a
	// trusted one 20.
	DefaultMaxWorkersUntrusted = 3
	DefaultMaxWorkersTrusted   = 20
)

// TrustConfig sets how worker owners earn trust and how the horde watches
// for cheating workers.
//
// Users start untrusted. Config.Payments.EscrowPercent of an untrusted owner's generation
// rewards is held in escrow (the rest is paid at once) until the owner is
// trusted: automatically once they earned TrustAfterKudos from generations
// and their account is TrustMinAge old (checked as their workers submit), or
// by a moderator. Trust releases the escrow into their balance.
//
// An image result faster than MaxMegapixelStepsPerSecond (from pop to
// submit) is suspicious; SuspicionThreshold of them pause the worker and
// flag its owner for review.
type TrustConfig struct {
	// TrustAfterKudos is the generation kudos that earn trust (default
	// 5000); a negative value disables automatic trust.
	TrustAfterKudos int64
	// TrustMinAge is the account age automatic trust needs (default 7 days).
	TrustMinAge time.Duration
	// MaxMegapixelStepsPerSecond is the fastest believable image result;
	// 0 disables the check.
	MaxMegapixelStepsPerSecond float64
	// SuspicionThreshold is how many suspicious results pause a worker
	// (default 3).
	SuspicionThreshold int64
	// MaxWorkersUntrusted and MaxWorkersTrusted bound the workers one owner
	// may have (defaults 3 and 20, as on the AI Horde); a new worker past
	// the bound, by /worker register or by a first pop, is refused with
	// KindForbidden, code TooManyWorkers. A negative value is no bound.
	MaxWorkersUntrusted int
	MaxWorkersTrusted   int
}

func (c TrustConfig) withDefaults() TrustConfig {
	if c.TrustAfterKudos == 0 {
		c.TrustAfterKudos = DefaultTrustAfterKudos
	}
	if c.TrustMinAge <= 0 {
		c.TrustMinAge = DefaultTrustMinAge
	}
	if c.MaxMegapixelStepsPerSecond < 0 {
		c.MaxMegapixelStepsPerSecond = 0
	}
	if c.SuspicionThreshold <= 0 {
		c.SuspicionThreshold = DefaultSuspicionThreshold
	}
	if c.MaxWorkersUntrusted == 0 {
		c.MaxWorkersUntrusted = DefaultMaxWorkersUntrusted
	}
	if c.MaxWorkersTrusted == 0 {
		c.MaxWorkersTrusted = DefaultMaxWorkersTrusted
	}
	return c
}

// maxWorkers is how many workers an owner may have; negative: no bound.
func (c TrustConfig) maxWorkers(trusted bool) int {
	if trusted {
		return c.MaxWorkersTrusted
	}
	return c.MaxWorkersUntrusted
}

// modState is the horde's in-memory moderation bookkeeping: what it knows
// of untrusted owners' progress toward trust. Its zero value is ready.
type modState struct {
	mu     sync.Mutex
	owners map[int64]*ownerProgress
}

// ownerProgress is an untrusted owner's generation earnings (loaded from the
// store once, then followed in memory) and the earliest time worth checking
// their account again.
type ownerProgress struct {
	earned    int64
	notBefore time.Time
	checking  bool // a trust check is under way
}

// SetTrusted trusts or distrusts a user; moderators only. Trusting releases
// the user's escrow into their balance (returned); the user's workers serve
// trusted-only requests and earn without escrow from now on.
func (h *Horde) SetTrusted(ctx context.Context, by User, userID int64, trusted bool, reason string) (kudos.Release, error) {
	if err := requireModerator(by, "trust or distrust members"); err != nil {
		return kudos.Release{}, err
	}
	if _, err := h.user(ctx, userID); err != nil {
		return kudos.Release{}, err
	}
	rel, _, err := h.setTrusted(ctx, by, userID, trusted, reason)
	return rel, err
}

// setTrusted saves a user's trust, brings their workers in memory in step,
// and on trust releases their escrow (also when they were trusted already:
// a release that failed before is retried). changed says whether the trust
// changed.
func (h *Horde) setTrusted(ctx context.Context, by User, userID int64, trusted bool, reason string) (kudos.Release, bool, error) {
	changed, err := h.store.SetTrusted(ctx, userID, trusted)
	if err != nil {
		return kudos.Release{}, false, fmt.Errorf("set trust of user %d: %w", userID, err)
	}
	h.mu.Lock()
	for _, ws := range h.workers {
		if ws.w.OwnerID == userID {
			ws.w.Trusted = trusted
		}
	}
	h.mu.Unlock()
	h.mod.mu.Lock()
	delete(h.mod.owners, userID)
	h.mod.mu.Unlock()
	h.log.Info("user trust set", "user", userID, "trusted", trusted, "by", by.ID, "reason", reason)
	if !trusted {
		return kudos.Release{}, changed, nil
	}
	actor := by.ID
	if actor < 0 {
		actor = 0 // the system
	}
	rel, err := h.store.ReleaseEscrow(ctx, userID, actor, "escrow released: "+reason, h.clock.Now())
	if err != nil {
		return kudos.Release{}, changed, fmt.Errorf("release escrow of user %d: %w", userID, err)
	}
	if rel.Amount > 0 {
		h.mu.Lock()
		if b, ok := h.balances[userID]; ok {
			h.balances[userID] = b + rel.Amount
		}
		h.mu.Unlock()
	}
	return rel, changed, nil
}

// progressTrust follows an untrusted owner's generation earnings after a
// result that paid them reward, and trusts them once they earned
// TrustAfterKudos and their account is TrustMinAge old.
func (h *Horde) progressTrust(ctx context.Context, owner, reward int64, now time.Time) error {
	tc := h.cfg.Trust
	if tc.TrustAfterKudos < 0 || owner <= 0 {
		return nil
	}
	h.mod.mu.Lock()
	p := h.mod.owners[owner]
	if p != nil {
		p.earned += reward
	}
	h.mod.mu.Unlock()
	if p == nil {
		// First result of this owner since start: its reward is already in
		// the store, so the store's sum counts it.
		earned, err := h.store.GenerationEarnings(ctx, owner)
		if err != nil {
			return fmt.Errorf("generation earnings of user %d: %w", owner, err)
		}
		h.mod.mu.Lock()
		if h.mod.owners == nil {
			h.mod.owners = make(map[int64]*ownerProgress)
		}
		if p = h.mod.owners[owner]; p == nil {
			p = &ownerProgress{earned: earned}
			h.mod.owners[owner] = p
		} else {
			p.earned += reward // a concurrent result loaded it first
		}
		h.mod.mu.Unlock()
	}

	h.mod.mu.Lock()
	due := p.earned >= tc.TrustAfterKudos && !now.Before(p.notBefore) && !p.checking
	if due {
		p.checking = true
	}
	earned := p.earned
	h.mod.mu.Unlock()
	if !due {
		return nil
	}
	defer func() {
		h.mod.mu.Lock()
		p.checking = false
		h.mod.mu.Unlock()
	}()

	u, err := h.user(ctx, owner)
	if err != nil {
		return err
	}
	age := now.Sub(u.CreatedAt)
	switch {
	case u.Trusted:
		h.mod.mu.Lock()
		delete(h.mod.owners, owner)
		h.mod.mu.Unlock()
		return nil
	case u.Flagged:
		// Flagged owners wait for a moderator; look again in an hour.
		h.mod.mu.Lock()
		p.notBefore = now.Add(time.Hour)
		h.mod.mu.Unlock()
		return nil
	case age < tc.TrustMinAge:
		h.mod.mu.Lock()
		p.notBefore = u.CreatedAt.Add(tc.TrustMinAge)
		h.mod.mu.Unlock()
		return nil
	}
	reason := fmt.Sprintf("earned %d kudos from generations; account %s old", earned, age.Round(time.Hour))
	rel, changed, err := h.setTrusted(ctx, systemModerator, owner, true, reason)
	if err != nil {
		return err
	}
	if changed {
		u.Trusted = true
		h.emit(ctx, ModerationEvent{Kind: EventTrusted, User: u, Reason: reason, Released: rel.Amount, At: now})
	}
	return nil
}

// resultFacts is what the moderation checks need to know of a stored result.
type resultFacts struct {
	job       Job
	req       Request
	state     string
	owner     int64
	worker    string // name
	trusted   bool
	reward    int64   // the whole reward (paid and held)
	work      float64 // megapixel-steps (image) or tokens (text)
	elapsed   time.Duration
	submitted time.Time
}

// afterResult runs the moderation checks of a stored result: the worker's
// report of a csam or censored result (moderation.go: recorded and told to
// the moderators, a strike only from a trusted owner), the worker's recent
// work (for uptime), its speed, the owner's progress to trust. The result
// itself is stored and acknowledged whatever happens here, so failures are
// logged, not returned.
func (h *Horde) afterResult(ctx context.Context, f resultFacts) {
	if f.state == ResultOK {
		h.noteFinished(f.job.WorkerID, f.submitted)
	}
	if kind, ok := resultStrike(f.state); ok {
		r := Report{Key: "job:" + f.job.ID + ":" + string(kind), UserID: f.req.UserID, Kind: kind, JobID: f.job.ID,
			WorkerID: f.job.WorkerID, OwnerID: f.owner, Trusted: f.trusted, At: f.submitted}
		if err := h.report(ctx, r, f.req.ID, f.worker, f.req.Prompt); err != nil {
			h.log.Error("record report", "job", f.job.ID, "user", f.req.UserID, "kind", kind, "err", err)
		}
	}
	if err := h.checkSpeed(ctx, f); err != nil {
		h.log.Error("check result speed", "job", f.job.ID, "worker", f.job.WorkerID, "err", err)
	}
	if !f.trusted && f.reward > 0 {
		if err := h.progressTrust(ctx, f.owner, f.reward, f.submitted); err != nil {
			h.log.Error("check owner trust", "owner", f.owner, "err", err)
		}
	}
}

// noteFinished records that a worker finished a job at, for earnsUptime.
func (h *Horde) noteFinished(workerID string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ws := h.workers[workerID]; ws != nil && at.After(ws.lastFinished) {
		ws.lastFinished = at
	}
}

// checkSpeed counts an image result faster than MaxMegapixelStepsPerSecond
// against its worker; at SuspicionThreshold the worker is paused and its
// owner flagged for review.
func (h *Horde) checkSpeed(ctx context.Context, f resultFacts) error {
	limit := h.cfg.Trust.MaxMegapixelStepsPerSecond
	if limit <= 0 || f.req.Kind != KindImage || f.work <= 0 {
		return nil
	}
	rate := math.Inf(1) // no measurable time at all: as fast as can be
	if secs := f.elapsed.Seconds(); secs > 0 {
		rate = f.work / secs
	}
	if rate <= limit {
		return nil
	}
	n, err := h.store.AddSuspicion(ctx, Suspicion{WorkerID: f.job.WorkerID, Key: "job:" + f.job.ID + ":fast", Ref: f.job.ID, Rate: rate, At: f.submitted})
	if err != nil {
		return fmt.Errorf("record suspicion of worker %s: %w", f.job.WorkerID, err)
	}
	h.log.Warn("suspiciously fast result", "worker", f.job.WorkerID, "job", f.job.ID, "mps_per_s", rate, "limit", limit, "count", n)
	if n < h.cfg.Trust.SuspicionThreshold {
		return nil
	}
	w, err := h.Worker(ctx, f.job.WorkerID)
	if err != nil {
		return nil // deleted meanwhile: nothing left to pause
	}
	if w.Paused {
		return nil // already reported
	}
	reason := fmt.Sprintf("%d results faster than %.0f megapixel-steps/s (last %.0f)", n, limit, rate)
	if _, err := h.UpdateWorker(ctx, systemModerator, w.ID, WorkerUpdate{Paused: ptr(true)}); err != nil {
		return fmt.Errorf("pause suspicious worker %s: %w", w.ID, err)
	}
	u, err := h.user(ctx, w.OwnerID)
	if err != nil {
		return err
	}
	if _, err := h.store.SetFlagged(ctx, u.ID, true); err != nil {
		return fmt.Errorf("flag owner %d of suspicious worker %s: %w", u.ID, w.ID, err)
	}
	u.Flagged = true
	h.emit(ctx, ModerationEvent{Kind: EventSuspicious, User: u, WorkerID: w.ID, WorkerName: w.Name, Count: n,
		Threshold: h.cfg.Trust.SuspicionThreshold, Reason: reason, JobID: f.job.ID, At: f.submitted})
	return nil
}

func ptr[T any](v T) *T { return &v }
