package kudos_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// quiet discards the logs of tests.
var quiet = slog.New(slog.DiscardHandler)

// t0 is a Wednesday noon in UTC: far from day and week boundaries.
var t0 = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// env is an engine over a real store in a temp dir.
type env struct {
	tb    testing.TB
	ctx   context.Context
	st    *store.Store
	eng   *kudos.Engine
	clock *storetest.Clock
	cfg   kudos.Config
}

// testConfig is the defaults with caps and ages the tests reason about.
func testConfig() kudos.Config {
	c := kudos.DefaultConfig()
	c.Timezone = "UTC"
	c.Categories = map[kudos.Category]kudos.CategoryConfig{
		kudos.CategoryHelpful:    {Emojis: []string{"🙏", "❤️"}, Amount: 5},
		kudos.CategoryModeration: {Emojis: []string{"🛡️"}, Amount: 10},
		kudos.CategoryArt:        {Emojis: []string{"🎨"}, Amount: 3},
	}
	c.GiverDailyCap = 20
	c.ReceiverDailyCap = 30
	c.PairWeeklyCap = 15
	c.MinAccountAge = kudos.Duration(7 * 24 * time.Hour)
	c.MinMembershipAge = kudos.Duration(24 * time.Hour)
	c.SettleDelay = kudos.Duration(10 * time.Minute)
	c.ModeratorRoles = []string{"mod"}
	c.Art = kudos.ArtConfig{Channels: []string{"art"}, PerReactor: 2, PostCap: 6, DailyCap: 10}
	return c
}

// newEnv opens a store in a temp dir and builds an engine with cfg.
func newEnv(tb testing.TB, cfg kudos.Config, opts ...kudos.Option) *env {
	tb.Helper()
	ctx := context.Background()
	clock := storetest.NewClock(t0)
	st := storetest.MustOpen(tb, tb.TempDir(), clock)
	eng, err := kudos.New(st, cfg, clock, append([]kudos.Option{kudos.WithLogger(quiet)}, opts...)...)
	if err != nil {
		tb.Fatalf("new engine: %v", err)
	}
	return &env{tb: tb, ctx: ctx, st: st, eng: eng, clock: clock, cfg: cfg}
}

// user creates a user and returns its id.
func (e *env) user(name string, mod ...func(*horde.User)) int64 {
	e.tb.Helper()
	u := horde.User{Name: name}
	for _, m := range mod {
		m(&u)
	}
	created, err := e.st.CreateUser(e.ctx, u, "")
	if err != nil {
		e.tb.Fatalf("create user %s: %v", name, err)
	}
	return created.ID
}

func flagged(u *horde.User)   { u.Flagged = true }
func moderator(u *horde.User) { u.Moderator = true }

// users creates n users named u0..u(n-1).
func (e *env) users(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = e.user("u" + strconv.Itoa(i))
	}
	return ids
}

// fund gives a user kudos through an admin entry.
func (e *env) fund(user, amount int64) {
	e.tb.Helper()
	_, err := e.st.Apply(e.ctx, kudos.Entry{UserID: user, Delta: amount, Kind: kudos.KindAdmin,
		Key: "fund:" + strconv.FormatInt(user, 10) + ":" + e.clock.Now().String(), Floor: kudos.NoFloor})
	if err != nil {
		e.tb.Fatalf("fund user %d: %v", user, err)
	}
}

func (e *env) balance(user int64) int64 {
	e.tb.Helper()
	b, err := e.eng.Balance(e.ctx, user)
	if err != nil {
		e.tb.Fatalf("balance of %d: %v", user, err)
	}
	return b
}

func (e *env) settle() int {
	e.tb.Helper()
	n, err := e.eng.Settle(e.ctx)
	if err != nil {
		e.tb.Fatalf("settle: %v", err)
	}
	return n
}

func (e *env) verify() {
	e.tb.Helper()
	m, err := e.eng.Verify(e.ctx)
	if err != nil {
		e.tb.Fatalf("verify: %v", err)
	}
	if len(m) != 0 {
		e.tb.Fatalf("ledger mismatches: %+v", m)
	}
}

// reaction is a reaction by an old enough member at the clock's now.
func (e *env) reaction(giver, receiver int64, msg, emoji string) kudos.ReactionAdded {
	now := e.clock.Now()
	return kudos.ReactionAdded{
		GiverID: giver, ReceiverID: receiver, MessageID: msg, ChannelID: "general", GuildID: "g",
		Emoji: emoji, GiverAccountCreated: now.AddDate(-1, 0, 0), GiverJoinedAt: now.AddDate(0, -1, 0), At: now,
	}
}

// wantCode fails unless err is a refusal with code (or nil for code "").
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	got := kudos.RefusalCode(err)
	if code == "" && err != nil {
		tb.Fatalf("want no error, got %v", err)
	}
	if code != "" && got != code {
		tb.Fatalf("want refusal %q, got %q (err %v)", code, got, err)
	}
}
