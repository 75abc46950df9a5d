package kudos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Clock tells the time. horde.SystemClock and the tests' fake clocks satisfy it.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Option sets an optional dependency of the Engine.
type Option func(*Engine)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(e *Engine) {
		if l != nil {
			e.log = l
		}
	}
}

// WithMembers sets the directory the monthly recurring grants ask which
// members hold the configured roles. Without it the recurring tally pays nobody.
func WithMembers(m MemberDirectory) Option {
	return func(e *Engine) { e.members = m }
}

// WithOnLeaderboard sets the callback the weekly leaderboard tally hands its
// result to (the bot posts it). An error is logged; the week is not retried.
func WithOnLeaderboard(fn func(context.Context, Leaderboard) error) Option {
	return func(e *Engine) { e.onLeaderboard = fn }
}

// WithOnArtTally sets the callback the daily art tally hands its payouts to
// (the bot announces them in the art channel). It is called only when a tally
// ran and paid someone, after the payouts are committed. An error is logged;
// the day is not retried (an announcement made twice is worse than one missed).
func WithOnArtTally(fn func(context.Context, ArtTallyResult) error) Option {
	return func(e *Engine) { e.onArtTally = fn }
}

// WithHeld sets how the engine learns the kudos a user's queued requests
// hold (horde.Horde.Held): a transfer may give away only what is not held.
// Without it nothing is held.
func WithHeld(held func(ctx context.Context, userID int64) (items int, kudos int64)) Option {
	return func(e *Engine) { e.held = held }
}

// Engine applies the kudos rules: transfers, reaction and thanks awards,
// moderator awards and the scheduled tallies. It is safe for concurrent use.
type Engine struct {
	store         Store
	cfg           Config
	clock         Clock
	loc           *time.Location
	log           *slog.Logger
	members       MemberDirectory
	onLeaderboard func(context.Context, Leaderboard) error
	onArtTally    func(context.Context, ArtTallyResult) error
	held          func(context.Context, int64) (int, int64)

	emojis     map[string]Category // normalized emoji -> category
	modRoles   map[string]bool
	artChannel map[string]bool

	giveRequired, giveBarred       map[string]bool
	receiveRequired, receiveBarred map[string]bool

	stats counters // what Stats reports (stats.go)
}

// New returns an engine over st with cfg (validated). A nil clock is the system clock.
func New(st Store, cfg Config, clock Clock, opts ...Option) (*Engine, error) {
	if st == nil {
		return nil, errors.New("kudos: nil store")
	}
	if cfg.Timezone == "" {
		cfg.Timezone = "UTC"
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("kudos config: timezone %q: %w", cfg.Timezone, err)
	}
	if clock == nil {
		clock = systemClock{}
	}
	e := &Engine{
		store: st, cfg: cfg, clock: clock, loc: loc, log: slog.Default(),
		emojis: map[string]Category{}, modRoles: set(cfg.ModeratorRoles), artChannel: set(cfg.Art.Channels),
		giveRequired: set(cfg.GiveRequiredRoles), giveBarred: set(cfg.GiveBarredRoles),
		receiveRequired: set(cfg.ReceiveRequiredRoles), receiveBarred: set(cfg.ReceiveBarredRoles),
	}
	for cat, cc := range cfg.Categories {
		if cc.Amount <= 0 {
			continue
		}
		for _, em := range cc.Emojis {
			e.emojis[NormalizeEmoji(em)] = cat
		}
	}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Location is the timezone days, weeks and months are reckoned in.
func (e *Engine) Location() *time.Location { return e.loc }

// Balance returns a user's kudos.
func (e *Engine) Balance(ctx context.Context, userID int64) (int64, error) {
	b, err := e.store.Balance(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("balance of user %d: %w", userID, err)
	}
	return b, nil
}

// History returns a user's newest ledger entries first, at most limit.
func (e *Engine) History(ctx context.Context, userID int64, limit int) ([]Entry, error) {
	h, err := e.store.History(ctx, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("history of user %d: %w", userID, err)
	}
	return h, nil
}

// Verify recomputes every balance from the ledger and returns the users
// whose stored balance differs (empty when the books balance). The
// `hordebot kudos verify` command prints them.
func (e *Engine) Verify(ctx context.Context) ([]Mismatch, error) {
	m, err := e.store.Verify(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify ledger: %w", err)
	}
	return m, nil
}

// anonymousID is the shared anonymous user (horde.AnonymousUserID).
const anonymousID int64 = 0

// standings reads the standing of ids; an unknown user is a RefuseUnknownUser refusal.
func (e *Engine) standings(ctx context.Context, ids ...int64) (map[int64]Standing, error) {
	st, err := e.store.Standings(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read standings: %w", err)
	}
	for _, id := range ids {
		if _, ok := st[id]; !ok {
			return nil, refuse(RefuseUnknownUser, "that member has no kudos account yet")
		}
	}
	return st, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func anyIn(roles []string, s map[string]bool) bool {
	for _, r := range roles {
		if s[r] {
			return true
		}
	}
	return false
}
