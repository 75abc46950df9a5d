package horde

import (
	"context"
	"fmt"
	"math"
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
	return h.mod.setTrustedBy(ctx, by, userID, trusted, reason)
}

// setTrustedBy implements Horde.SetTrusted.
func (m *moderator) setTrustedBy(ctx context.Context, by User, userID int64, trusted bool, reason string) (kudos.Release, error) {
	if err := requireModerator(by, "trust or distrust members"); err != nil {
		return kudos.Release{}, err
	}
	if _, err := m.user(ctx, userID); err != nil {
		return kudos.Release{}, err
	}
	rel, _, err := m.setTrusted(ctx, by, userID, trusted, reason)
	return rel, err
}

// setTrusted saves a user's trust, brings their workers in memory in step,
// and on trust releases their escrow (also when they were trusted already:
// a release that failed before is retried). changed says whether the trust
// changed.
func (m *moderator) setTrusted(ctx context.Context, by User, userID int64, trusted bool, reason string) (kudos.Release, bool, error) {
	changed, err := m.store.SetTrusted(ctx, userID, trusted)
	if err != nil {
		return kudos.Release{}, false, fmt.Errorf("set trust of user %d: %w", userID, err)
	}
	m.reg.setOwnerTrusted(userID, trusted)
	m.mu.Lock()
	delete(m.owners, userID)
	m.mu.Unlock()
	m.log.Info("user trust set", "user", userID, "trusted", trusted, "by", by.ID, "reason", reason)
	if !trusted {
		return kudos.Release{}, changed, nil
	}
	actor := by.ID
	if actor < 0 {
		actor = 0 // the system
	}
	rel, err := m.store.ReleaseEscrow(ctx, userID, actor, "escrow released: "+reason, m.clock.Now())
	if err != nil {
		return kudos.Release{}, changed, fmt.Errorf("release escrow of user %d: %w", userID, err)
	}
	if rel.Amount > 0 {
		m.reg.credit(userID, rel.Amount)
	}
	return rel, changed, nil
}

// progressTrust follows an untrusted owner's generation earnings after a
// result that paid them reward, and trusts them once they earned
// TrustAfterKudos and their account is TrustMinAge old.
func (m *moderator) progressTrust(ctx context.Context, owner, reward int64, now time.Time) error {
	tc := m.trust
	if tc.TrustAfterKudos < 0 || owner <= 0 {
		return nil
	}
	m.mu.Lock()
	p := m.owners[owner]
	if p != nil {
		p.earned += reward
	}
	m.mu.Unlock()
	if p == nil {
		// First result of this owner since start: its reward is already in
		// the store, so the store's sum counts it.
		earned, err := m.store.GenerationEarnings(ctx, owner)
		if err != nil {
			return fmt.Errorf("generation earnings of user %d: %w", owner, err)
		}
		m.mu.Lock()
		if p = m.owners[owner]; p == nil {
			p = &ownerProgress{earned: earned}
			m.owners[owner] = p
		} else {
			p.earned += reward // a concurrent result loaded it first
		}
		m.mu.Unlock()
	}

	m.mu.Lock()
	due := p.earned >= tc.TrustAfterKudos && !now.Before(p.notBefore) && !p.checking
	if due {
		p.checking = true
	}
	earned := p.earned
	m.mu.Unlock()
	if !due {
		return nil
	}
	defer func() {
		m.mu.Lock()
		p.checking = false
		m.mu.Unlock()
	}()

	u, err := m.user(ctx, owner)
	if err != nil {
		return err
	}
	age := now.Sub(u.CreatedAt)
	switch {
	case u.Trusted:
		m.mu.Lock()
		delete(m.owners, owner)
		m.mu.Unlock()
		return nil
	case u.Flagged:
		// Flagged owners wait for a moderator; look again in an hour.
		m.mu.Lock()
		p.notBefore = now.Add(time.Hour)
		m.mu.Unlock()
		return nil
	case age < tc.TrustMinAge:
		m.mu.Lock()
		p.notBefore = u.CreatedAt.Add(tc.TrustMinAge)
		m.mu.Unlock()
		return nil
	}
	reason := fmt.Sprintf("earned %d kudos from generations; account %s old", earned, age.Round(time.Hour))
	rel, changed, err := m.setTrusted(ctx, systemModerator, owner, true, reason)
	if err != nil {
		return err
	}
	if changed {
		u.Trusted = true
		m.emit(ctx, ModerationEvent{Kind: EventTrusted, User: u, Reason: reason, Released: rel.Amount, At: now})
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
// the moderators, a strike only from a trusted owner), its speed, the
// owner's progress to trust. The result itself is stored and acknowledged
// whatever happens here, so failures are logged, not returned.
func (m *moderator) afterResult(ctx context.Context, f resultFacts) {
	if kind, ok := resultStrike(f.state); ok {
		r := Report{Key: "job:" + f.job.ID + ":" + string(kind), UserID: f.req.UserID, Kind: kind, JobID: f.job.ID,
			WorkerID: f.job.WorkerID, OwnerID: f.owner, Trusted: f.trusted, At: f.submitted}
		if err := m.report(ctx, r, f.req.ID, f.worker, f.req.Prompt); err != nil {
			m.log.Error("record report", "job", f.job.ID, "user", f.req.UserID, "kind", kind, "err", err)
		}
	}
	if err := m.checkSpeed(ctx, f); err != nil {
		m.log.Error("check result speed", "job", f.job.ID, "worker", f.job.WorkerID, "err", err)
	}
	if !f.trusted && f.reward > 0 {
		if err := m.progressTrust(ctx, f.owner, f.reward, f.submitted); err != nil {
			m.log.Error("check owner trust", "owner", f.owner, "err", err)
		}
	}
}

// checkSpeed counts an image result faster than MaxMegapixelStepsPerSecond
// against its worker; at SuspicionThreshold the worker is paused and its
// owner flagged for review.
func (m *moderator) checkSpeed(ctx context.Context, f resultFacts) error {
	limit := m.trust.MaxMegapixelStepsPerSecond
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
	n, err := m.store.AddSuspicion(ctx, Suspicion{WorkerID: f.job.WorkerID, Key: "job:" + f.job.ID + ":fast", Ref: f.job.ID, Rate: rate, At: f.submitted})
	if err != nil {
		return fmt.Errorf("record suspicion of worker %s: %w", f.job.WorkerID, err)
	}
	m.log.Warn("suspiciously fast result", "worker", f.job.WorkerID, "job", f.job.ID, "mps_per_s", rate, "limit", limit, "count", n)
	if n < m.trust.SuspicionThreshold {
		return nil
	}
	w, err := m.reg.Worker(ctx, f.job.WorkerID)
	if err != nil {
		return nil // deleted meanwhile: nothing left to pause
	}
	if w.Paused {
		return nil // already reported
	}
	reason := fmt.Sprintf("%d results faster than %.0f megapixel-steps/s (last %.0f)", n, limit, rate)
	if _, err := m.reg.UpdateWorker(ctx, systemModerator, w.ID, WorkerUpdate{Paused: ptr(true)}); err != nil {
		return fmt.Errorf("pause suspicious worker %s: %w", w.ID, err)
	}
	u, err := m.user(ctx, w.OwnerID)
	if err != nil {
		return err
	}
	if _, err := m.store.SetFlagged(ctx, u.ID, true); err != nil {
		return fmt.Errorf("flag owner %d of suspicious worker %s: %w", u.ID, w.ID, err)
	}
	u.Flagged = true
	m.emit(ctx, ModerationEvent{Kind: EventSuspicious, User: u, WorkerID: w.ID, WorkerName: w.Name, Count: n,
		Threshold: m.trust.SuspicionThreshold, Reason: reason, JobID: f.job.ID, At: f.submitted})
	return nil
}

func ptr[T any](v T) *T { return &v }

// setOwnerTrusted implements workerRegistry: the owner's workers in memory
// serve trusted-only requests (or no longer) from now on.
func (h *Horde) setOwnerTrusted(ownerID int64, trusted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.workers {
		if ws.w.OwnerID == ownerID {
			ws.w.Trusted = trusted
		}
	}
}

// credit implements workerRegistry: kudos released to a user count in the
// balance kept for require_upfront_kudos.
func (h *Horde) credit(userID, amount int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.balances[userID]; ok {
		h.balances[userID] = b + amount
	}
}
