package horde

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/kudos"
)

// Defaults of ModerationConfig's zero values.
const (
	DefaultCSAMThreshold     int64 = 3
	DefaultCensoredThreshold int64 = 20
	DefaultRefusedThreshold  int64 = 5
	DefaultReportersToFlag   int64 = 2
)

// ModerationConfig sets when strikes flag a user. A strike is a mark against
// the requesting user: a prompt the filter refused, or a worker's report of
// a result in state csam or censored that counts (see below). Strikes are
// counted per user and kind since the user was last unflagged; reaching a
// threshold flags the user (a flagged user can neither request nor give or
// receive kudos) and alerts the moderators through Config.OnModeration.
//
// A worker's report is a claim by its owner, who may be the requester's
// adversary: one owner, with one worker or many, must never be able to flag
// anyone. So every report is recorded and reaches the moderators, but only
// a report from a trusted owner (other than the requester) is a strike, and
// a report threshold flags only once the counted reports come from at least
// ReportersToFlag distinct trusted owners. Reports from untrusted owners
// carry no automatic consequence: a moderator reads them in /mod info and
// may flag the user by hand.
type ModerationConfig struct {
	// Strikes of each kind that flag a user. Zero takes the default (3, 20
	// and 5); a negative value never flags.
	CSAMThreshold     int64
	CensoredThreshold int64
	RefusedThreshold  int64
	// ReportersToFlag is how many distinct trusted owners' workers must have
	// reported results of a kind before its threshold flags (default 2).
	ReportersToFlag int64
}

func (c ModerationConfig) withDefaults() ModerationConfig {
	if c.CSAMThreshold == 0 {
		c.CSAMThreshold = DefaultCSAMThreshold
	}
	if c.CensoredThreshold == 0 {
		c.CensoredThreshold = DefaultCensoredThreshold
	}
	if c.RefusedThreshold == 0 {
		c.RefusedThreshold = DefaultRefusedThreshold
	}
	if c.ReportersToFlag <= 0 {
		c.ReportersToFlag = DefaultReportersToFlag
	}
	return c
}

// threshold is the strike count of a kind that flags a user; <= 0 never does.
func (c ModerationConfig) threshold(k StrikeKind) int64 {
	switch k {
	case StrikeCSAM:
		return c.CSAMThreshold
	case StrikeCensored:
		return c.CensoredThreshold
	case StrikeRefused:
		return c.RefusedThreshold
	}
	return -1
}

// StrikeKind is what a strike is for.
type StrikeKind string

// The strike kinds.
const (
	StrikeCSAM     StrikeKind = "csam"     // a worker reported a result as CSAM
	StrikeCensored StrikeKind = "censored" // a worker censored a result (NSFW where not allowed)
	StrikeRefused  StrikeKind = "refused"  // the prompt filter refused a prompt
)

// StrikeKinds lists every strike kind, in display order.
var StrikeKinds = []StrikeKind{StrikeCSAM, StrikeCensored, StrikeRefused}

// Strike is one mark against a user.
type Strike struct {
	UserID int64
	Kind   StrikeKind
	// Key makes the strike idempotent: a job's result or a refused request
	// counts once, however often it is replayed. Required.
	Key string
	Ref string // the job or request it is about
	At  time.Time
}

// Report is a worker's report of a result it would not deliver: a job's
// result in state csam or censored.
type Report struct {
	// Key makes the report idempotent ("job:<id>:<kind>"). Required.
	Key      string
	UserID   int64      // the requester reported
	Kind     StrikeKind // StrikeCSAM or StrikeCensored
	JobID    string
	WorkerID string
	OwnerID  int64 // the reporting worker's owner; -1 if the worker is gone
	Trusted  bool  // the owner was trusted when the worker reported
	At       time.Time
}

// counts reports whether a report is a strike: from a trusted owner, about
// someone else's request.
func (r Report) counts() bool { return r.Trusted && r.OwnerID >= 0 && r.OwnerID != r.UserID }

// ReportTally is what is on record against a user of one report kind since
// they were last unflagged.
type ReportTally struct {
	Reports        int64 // every report, trusted or not
	Owners         int64 // distinct owners who reported
	TrustedReports int64 // reports that count (Report.counts)
	TrustedOwners  int64 // distinct owners among those
}

// Suspicion is one suspiciously fast result of a worker.
type Suspicion struct {
	WorkerID string
	Key      string // idempotency key; required
	Ref      string // the job
	Rate     float64
	At       time.Time
}

// ModerationStore keeps strikes, suspicion, users' flags and trust, and
// escrow holds. store.Store satisfies it.
type ModerationStore interface {
	kudos.EscrowStore
	// AddStrike records a strike unless its key was recorded before, and
	// returns the user's count of strikes of that kind since their last reset.
	AddStrike(ctx context.Context, s Strike) (count int64, err error)
	// Strikes returns a user's strike counts since their last reset, by kind
	// (kinds with none are absent).
	Strikes(ctx context.Context, userID int64) (map[StrikeKind]int64, error)
	// ResetStrikes sets a user's strike counts back to zero and takes their
	// reports out of the tallies (strikes and reports stay on record).
	ResetStrikes(ctx context.Context, userID int64) error
	// AddReport records a report unless its key was recorded before (added
	// is false then) and returns the user's tally of that kind since their
	// last reset, this report included.
	AddReport(ctx context.Context, r Report) (t ReportTally, added bool, err error)
	// Reports returns a user's report tallies since their last reset, by
	// kind (kinds with none are absent).
	Reports(ctx context.Context, userID int64) (map[StrikeKind]ReportTally, error)
	// AddSuspicion records a suspicious result unless its key was recorded
	// before, and returns the worker's count since its last reset.
	AddSuspicion(ctx context.Context, s Suspicion) (count int64, err error)
	// Suspicions returns a worker's count of suspicious results since its last reset.
	Suspicions(ctx context.Context, workerID string) (int64, error)
	// ResetSuspicion sets a worker's suspicion count back to zero.
	ResetSuspicion(ctx context.Context, workerID string) error
	// SetFlagged sets a user's flag and reports whether it changed (so that
	// of two concurrent flaggings one alerts). ErrNotFound for an unknown user.
	SetFlagged(ctx context.Context, userID int64, flagged bool) (changed bool, err error)
	// SetTrusted sets a user's trust and reports whether it changed.
	// ErrNotFound for an unknown user.
	SetTrusted(ctx context.Context, userID int64, trusted bool) (changed bool, err error)
	// GenerationEarnings returns the kudos a user's workers earned from
	// generations: paid at once (ledger KindGeneration) and held in escrow.
	GenerationEarnings(ctx context.Context, userID int64) (int64, error)
}

// ModerationEventKind says what happened.
type ModerationEventKind string

// The moderation events.
const (
	EventFlagged    ModerationEventKind = "flagged"    // a user was flagged automatically
	EventReported   ModerationEventKind = "reported"   // a worker reported a csam or censored result (every one)
	EventRefused    ModerationEventKind = "refused"    // the prompt filter refused a prompt
	EventSuspicious ModerationEventKind = "suspicious" // a worker was paused for suspiciously fast results
	EventTrusted    ModerationEventKind = "trusted"    // a worker owner was trusted automatically
)

// ModerationEvent is something the moderators must hear about. It may carry
// a prompt: it goes to the moderators' audit channel only, never to a public one.
type ModerationEvent struct {
	Kind ModerationEventKind
	// User is the user concerned: the requester (strikes, refusals,
	// reports) or the worker owner (suspicion, trust).
	User       User
	WorkerID   string
	WorkerName string
	Strike     StrikeKind // EventFlagged and EventReported: the kind of strike
	Count      int64      // strikes or suspicious results counted so far
	Threshold  int64
	Reason     string
	Prompt     string // EventRefused and EventReported: for moderators' eyes only
	// EventReported: the reporting worker's owner (ID -1 if the worker is
	// gone), whether the report counts as a strike (a trusted owner's, see
	// ModerationConfig), the user's tally of that kind so far, and how many
	// distinct trusted owners a flag needs.
	Reporter        User
	Counted         bool
	Tally           ReportTally
	ReportersToFlag int64
	RequestID       string
	JobID           string
	Released        int64 // EventTrusted: kudos released from escrow
	At              time.Time
}

// moderator is the horde's moderation and trust, in this file and trust.go:
// strikes, workers' reports, flags, the suspicion of too-fast workers,
// owners' progress to trust and the release of their escrow. Horde holds
// one (Horde.mod); Horde's moderation methods (RecordStrike, SetFlagged,
// SetTrusted, PauseWorker, AdjustKudos, ModerationStatus) hand over to it,
// Submit tells it of refused prompts (onRefused) and a stored result tells
// it of the result (afterResult). It reaches the rest of the horde only
// through its store (moderationStore) and the scheduler's registry
// (workerRegistry); nothing in the scheduler reads its state.
type moderator struct {
	store  moderationStore
	reg    workerRegistry
	cfg    ModerationConfig
	trust  TrustConfig
	clock  Clock
	log    *slog.Logger
	notify func(ctx context.Context, ev ModerationEvent) // Config.OnModeration; may be nil

	mu     sync.Mutex
	owners map[int64]*ownerProgress // untrusted owners' progress to trust (trust.go)
}

// moderationStore is what moderation reads and writes: its own records
// (ModerationStore), users, and the ledger for moderators' adjustments.
type moderationStore interface {
	ModerationStore
	User(ctx context.Context, id int64) (User, error)
	Balance(ctx context.Context, userID int64) (int64, error)
	Apply(ctx context.Context, entries ...kudos.Entry) (applied []bool, err error)
}

// workerRegistry is what moderation asks of the scheduler: its workers, a
// pause, and keeping the scheduler's memory in step when an owner's trust
// changes. *Horde satisfies it.
type workerRegistry interface {
	Worker(ctx context.Context, id string) (Worker, error)
	Workers(ctx context.Context, kind RequestKind) ([]Worker, error)
	UpdateWorker(ctx context.Context, by User, workerID string, u WorkerUpdate) (Worker, error)
	// setOwnerTrusted sets the trust of an owner's workers in memory.
	setOwnerTrusted(ownerID int64, trusted bool)
	// credit adds kudos released to a user to the balance the scheduler
	// keeps for require_upfront_kudos, if it keeps one.
	credit(userID, amount int64)
}

var _ workerRegistry = (*Horde)(nil)

// newModerator returns the moderation of a horde with config cfg (its
// defaults applied).
func newModerator(st moderationStore, reg workerRegistry, cfg Config) *moderator {
	return &moderator{
		store: st, reg: reg, cfg: cfg.Moderation, trust: cfg.Trust,
		clock: cfg.Clock, log: cfg.Logger, notify: cfg.OnModeration,
		owners: make(map[int64]*ownerProgress),
	}
}

// systemModerator is the actor of the horde's own moderation (a worker paused
// for suspicion). Its id matches no user.
var systemModerator = User{ID: -1, Name: "hordebot", Moderator: true}

// emit hands an event to Config.OnModeration, if set.
func (m *moderator) emit(ctx context.Context, ev ModerationEvent) {
	if ev.At.IsZero() {
		ev.At = m.clock.Now()
	}
	m.log.Info("moderation event", "kind", ev.Kind, "user", ev.User.ID, "worker", ev.WorkerID, "strike", ev.Strike, "count", ev.Count, "reason", ev.Reason)
	if m.notify != nil {
		m.notify(ctx, ev)
	}
}

// requireModerator refuses actors who are not moderators. The bot sets
// User.Moderator for members holding a moderator role.
func requireModerator(by User, what string) error {
	if !by.Moderator {
		return Errorf(KindForbidden, "NotModerator", "only moderators may %s", what)
	}
	return nil
}

// user reads a user, turning "not found" into a KindNotFound *Error.
func (m *moderator) user(ctx context.Context, id int64) (User, error) {
	return readUser(ctx, m.store, id)
}

// RecordStrike counts a strike against a user and flags them when it
// reaches its threshold; prompt, if any, goes with the flag to the
// moderators only. It returns the user's count of that kind. The anonymous
// user is counted but never flagged (that would stop every anonymous
// request): at the threshold the moderators are alerted and the count
// starts over. Workers' reports do not come here but go through report,
// which decides whether they are strikes at all.
func (h *Horde) RecordStrike(ctx context.Context, s Strike, prompt string) (int64, error) {
	return h.mod.strike(ctx, s, nil, prompt)
}

// report records a worker's report of a result against its requester and
// tells the moderators (with the prompt: for their eyes only). Only a
// report that counts (a trusted owner's, about someone else's request) is a
// strike, and its threshold flags the requester only once reports come from
// ReportersToFlag distinct trusted owners; see ModerationConfig.
func (m *moderator) report(ctx context.Context, r Report, reqID, workerName, prompt string) error {
	if r.At.IsZero() {
		r.At = m.clock.Now()
	}
	tally, added, err := m.store.AddReport(ctx, r)
	if err != nil {
		return fmt.Errorf("record %s report of job %s: %w", r.Kind, r.JobID, err)
	}
	if !added {
		return nil // a replay: counted and told before
	}
	var n int64
	if r.counts() {
		s := Strike{UserID: r.UserID, Kind: r.Kind, Key: r.Key, Ref: r.JobID, At: r.At}
		if n, err = m.store.AddStrike(ctx, s); err != nil {
			return fmt.Errorf("record %s strike of user %d: %w", r.Kind, r.UserID, err)
		}
	}
	u, err := m.user(ctx, r.UserID)
	if err != nil {
		return err
	}
	reporter := User{ID: -1}
	if r.OwnerID >= 0 {
		if reporter, err = m.user(ctx, r.OwnerID); err != nil {
			reporter = User{ID: r.OwnerID} // deleted meanwhile: still name the id
		}
	}
	cfg := m.cfg
	limit := cfg.threshold(r.Kind)
	m.emit(ctx, ModerationEvent{
		Kind: EventReported, User: u, WorkerID: r.WorkerID, WorkerName: workerName, Strike: r.Kind,
		Count: tally.TrustedReports, Threshold: limit, Prompt: prompt, RequestID: reqID, JobID: r.JobID,
		Reporter: reporter, Counted: r.counts(), Tally: tally, ReportersToFlag: cfg.ReportersToFlag, At: r.At,
	})
	if !r.counts() || limit <= 0 || n < limit || tally.TrustedOwners < cfg.ReportersToFlag {
		return nil
	}
	return m.autoFlag(ctx, u, Strike{UserID: r.UserID, Kind: r.Kind, Key: r.Key, Ref: r.JobID, At: r.At}, n, limit,
		fmt.Sprintf("%d %s reports from %d trusted owners (threshold %d from %d owners)", n, r.Kind, tally.TrustedOwners, limit, cfg.ReportersToFlag), prompt)
}

// strike records s, reports ev (if not nil) with the user and the count
// filled in, and flags the user at the threshold (prompt goes with the flag).
func (m *moderator) strike(ctx context.Context, s Strike, ev *ModerationEvent, prompt string) (int64, error) {
	if s.Key == "" {
		return 0, fmt.Errorf("strike of user %d (%s): empty key", s.UserID, s.Kind)
	}
	if s.At.IsZero() {
		s.At = m.clock.Now()
	}
	n, err := m.store.AddStrike(ctx, s)
	if err != nil {
		return 0, fmt.Errorf("record %s strike of user %d: %w", s.Kind, s.UserID, err)
	}
	limit := m.cfg.threshold(s.Kind)
	due := limit > 0 && n >= limit
	if ev == nil && !due {
		return n, nil
	}
	u, err := m.user(ctx, s.UserID)
	if err != nil {
		return n, err
	}
	if ev != nil {
		ev.User, ev.Strike, ev.Count, ev.Threshold, ev.At = u, s.Kind, n, limit, s.At
		m.emit(ctx, *ev)
	}
	if due {
		if err := m.autoFlag(ctx, u, s, n, limit, fmt.Sprintf("%d %s strikes (threshold %d)", n, s.Kind, limit), prompt); err != nil {
			return n, err
		}
	}
	return n, nil
}

// onRefused counts a prompt the filter refused against its user, reports it
// to the moderators (with the prompt: for their eyes only) and flags the
// user at the threshold; then it calls next, the configured OnRefused.
func (m *moderator) onRefused(next func(context.Context, User, string, filter.Verdict)) func(context.Context, User, string, filter.Verdict) {
	return func(ctx context.Context, u User, prompt string, v filter.Verdict) {
		reason := "rule " + string(v.Rule)
		if len(v.Matched) > 0 {
			reason += "; matched " + strings.Join(v.Matched, ", ")
		}
		s := Strike{UserID: u.ID, Kind: StrikeRefused, Key: "refused:" + newID(), Ref: string(v.Rule), At: m.clock.Now()}
		if _, err := m.strike(ctx, s, &ModerationEvent{Kind: EventRefused, Reason: reason, Prompt: prompt}, ""); err != nil {
			m.log.Error("record refused prompt", "user", u.ID, "rule", v.Rule, "err", err)
		}
		if next != nil {
			next(ctx, u, prompt, v)
		}
	}
}

// autoFlag flags a user whose strikes reached a threshold and alerts the
// moderators, once: a user already flagged is not reported again.
func (m *moderator) autoFlag(ctx context.Context, u User, s Strike, n, limit int64, reason, prompt string) error {
	if u.Anonymous() {
		if err := m.store.ResetStrikes(ctx, u.ID); err != nil {
			return fmt.Errorf("reset strikes of the anonymous user: %w", err)
		}
		m.emit(ctx, ModerationEvent{Kind: EventFlagged, User: u, Strike: s.Kind, Count: n, Threshold: limit,
			Reason: reason + "; the anonymous user is never flagged", Prompt: prompt, JobID: s.Ref, At: s.At})
		return nil
	}
	changed, err := m.store.SetFlagged(ctx, u.ID, true)
	if err != nil {
		return fmt.Errorf("flag user %d: %w", u.ID, err)
	}
	if !changed {
		return nil
	}
	u.Flagged = true
	m.emit(ctx, ModerationEvent{Kind: EventFlagged, User: u, Strike: s.Kind, Count: n, Threshold: limit, Reason: reason, Prompt: prompt, JobID: s.Ref, At: s.At})
	return nil
}

// SetFlagged flags or unflags a user; moderators only (KindForbidden
// otherwise). Unflagging starts the user's strike counts and report
// tallies over. It returns the user as saved.
func (h *Horde) SetFlagged(ctx context.Context, by User, userID int64, flagged bool, reason string) (User, error) {
	return h.mod.setFlagged(ctx, by, userID, flagged, reason)
}

// setFlagged implements Horde.SetFlagged.
func (m *moderator) setFlagged(ctx context.Context, by User, userID int64, flagged bool, reason string) (User, error) {
	if err := requireModerator(by, "flag or unflag members"); err != nil {
		return User{}, err
	}
	u, err := m.user(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if !flagged {
		if err := m.store.ResetStrikes(ctx, userID); err != nil {
			return User{}, fmt.Errorf("reset strikes of user %d: %w", userID, err)
		}
	}
	if _, err := m.store.SetFlagged(ctx, userID, flagged); err != nil {
		return User{}, fmt.Errorf("set flag of user %d: %w", userID, err)
	}
	u.Flagged = flagged
	m.log.Info("user flag set by moderator", "user", userID, "flagged", flagged, "by", by.ID, "reason", reason)
	return u, nil
}

// PauseWorker pauses or unpauses a worker; moderators only. A paused worker
// gets no jobs and earns nothing. Unpausing starts its suspicion count over.
func (h *Horde) PauseWorker(ctx context.Context, by User, workerID string, paused bool, reason string) (Worker, error) {
	return h.mod.pauseWorker(ctx, by, workerID, paused, reason)
}

// pauseWorker implements Horde.PauseWorker.
func (m *moderator) pauseWorker(ctx context.Context, by User, workerID string, paused bool, reason string) (Worker, error) {
	if err := requireModerator(by, "pause workers"); err != nil {
		return Worker{}, err
	}
	if !paused {
		if err := m.store.ResetSuspicion(ctx, workerID); err != nil {
			return Worker{}, fmt.Errorf("reset suspicion of worker %s: %w", workerID, err)
		}
	}
	w, err := m.reg.UpdateWorker(ctx, by, workerID, WorkerUpdate{Paused: &paused})
	if err != nil {
		return Worker{}, err
	}
	m.log.Info("worker pause set", "worker", workerID, "paused", paused, "by", by.ID, "reason", reason)
	return w, nil
}

// MaxAdjustment bounds one moderator kudos adjustment.
const MaxAdjustment int64 = 1_000_000_000

// AdjustKudos adds amount (negative to take) to a user's kudos as a ledger
// entry of kind admin; moderators only. key makes it idempotent (the bot
// passes the interaction id): a replay changes nothing and applied is false.
// A moderator may take a user below zero.
func (h *Horde) AdjustKudos(ctx context.Context, by User, userID, amount int64, reason, key string) (applied bool, err error) {
	return h.mod.adjustKudos(ctx, by, userID, amount, reason, key)
}

// adjustKudos implements Horde.AdjustKudos.
func (m *moderator) adjustKudos(ctx context.Context, by User, userID, amount int64, reason, key string) (applied bool, err error) {
	if err := requireModerator(by, "adjust kudos"); err != nil {
		return false, err
	}
	switch {
	case amount == 0:
		return false, Invalidf("amount", "the amount must not be zero").InCase("amount_zero")
	case amount > MaxAdjustment || amount < -MaxAdjustment:
		return false, Invalidf("amount", "the amount must be within ±%d", MaxAdjustment).InCase("amount_range").With("Max", MaxAdjustment)
	case strings.TrimSpace(key) == "":
		return false, fmt.Errorf("adjust kudos of user %d: empty idempotency key", userID)
	}
	if _, err := m.user(ctx, userID); err != nil {
		return false, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "moderator adjustment"
	}
	ok, err := m.store.Apply(ctx, kudos.Entry{
		UserID: userID, Delta: amount, Kind: kudos.KindAdmin, Reason: reason, ActorID: by.ID,
		Key: "admin:" + key, Floor: kudos.NoFloor, At: m.clock.Now(),
	})
	if err != nil {
		return false, fmt.Errorf("adjust kudos of user %d by %d: %w", userID, amount, err)
	}
	return len(ok) == 1 && ok[0], nil
}

// ModerationStatus is what moderators see of a user.
type ModerationStatus struct {
	User     User
	Kudos    int64
	Escrowed int64
	Strikes  map[StrikeKind]int64
	// Reports are the workers' reports of the user's results since they were
	// last unflagged, untrusted owners' included.
	Reports map[StrikeKind]ReportTally
	Workers []WorkerStanding
}

// WorkerStanding is a worker with its suspicion count.
type WorkerStanding struct {
	Worker     Worker
	Suspicions int64
}

// ModerationStatus returns a user's standing: flags, kudos, escrow,
// strikes and workers; moderators only.
func (h *Horde) ModerationStatus(ctx context.Context, by User, userID int64) (ModerationStatus, error) {
	return h.mod.status(ctx, by, userID)
}

// status implements Horde.ModerationStatus.
func (m *moderator) status(ctx context.Context, by User, userID int64) (ModerationStatus, error) {
	if err := requireModerator(by, "see members' standing"); err != nil {
		return ModerationStatus{}, err
	}
	u, err := m.user(ctx, userID)
	if err != nil {
		return ModerationStatus{}, err
	}
	st := ModerationStatus{User: u}
	if st.Kudos, err = m.store.Balance(ctx, userID); err != nil {
		return ModerationStatus{}, fmt.Errorf("balance of user %d: %w", userID, err)
	}
	if st.Escrowed, err = m.store.Escrowed(ctx, userID); err != nil {
		return ModerationStatus{}, fmt.Errorf("escrow of user %d: %w", userID, err)
	}
	if st.Strikes, err = m.store.Strikes(ctx, userID); err != nil {
		return ModerationStatus{}, fmt.Errorf("strikes of user %d: %w", userID, err)
	}
	if st.Reports, err = m.store.Reports(ctx, userID); err != nil {
		return ModerationStatus{}, fmt.Errorf("reports of user %d: %w", userID, err)
	}
	workers, err := m.reg.Workers(ctx, "")
	if err != nil {
		return ModerationStatus{}, err
	}
	for _, w := range workers {
		if w.OwnerID != userID {
			continue
		}
		n, err := m.store.Suspicions(ctx, w.ID)
		if err != nil {
			return ModerationStatus{}, fmt.Errorf("suspicion of worker %s: %w", w.ID, err)
		}
		st.Workers = append(st.Workers, WorkerStanding{Worker: w, Suspicions: n})
	}
	return st, nil
}

// resultStrike is the kind of report a result state is, if any.
func resultStrike(state string) (StrikeKind, bool) {
	switch state {
	case ResultCSAM:
		return StrikeCSAM, true
	case ResultCensored:
		return StrikeCensored, true
	}
	return "", false
}
