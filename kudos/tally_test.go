package kudos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// artReact is a reaction in the art channel.
func (e *env) artReact(giver, author int64, msg, emoji string) kudos.ReactionAdded {
	r := e.reaction(giver, author, msg, emoji)
	r.ChannelID = "art"
	return r
}

func (e *env) mustReact(r kudos.ReactionAdded) kudos.Outcome {
	e.tb.Helper()
	out, err := e.eng.OnReactionAdded(e.ctx, r)
	if err != nil && kudos.RefusalCode(err) == "" {
		e.tb.Fatalf("reaction: %v", err)
	}
	return out
}

// artEarnings sums a user's art tally entries.
func (e *env) artEarnings(user int64) int64 {
	e.tb.Helper()
	h, err := e.eng.History(e.ctx, user, 100)
	if err != nil {
		e.tb.Fatal(err)
	}
	var sum int64
	for _, en := range h {
		if strings.HasPrefix(en.Key, "art:") {
			sum += en.Delta
		}
	}
	return sum
}

func TestArtTally(t *testing.T) {
	e := newEnv(t, testConfig()) // 2 per reactor, 6 per post, 10 per author per day
	artist, other := e.user("artist"), e.user("other")
	rs := e.users(5)

	// p1: r0 twice (two emojis count once), r1, r2 removed, a bot, the artist: 2 reactors.
	e.mustReact(e.artReact(rs[0], artist, "p1", "😍"))
	e.mustReact(e.artReact(rs[0], artist, "p1", "🔥"))
	e.mustReact(e.artReact(rs[1], artist, "p1", "😍"))
	e.mustReact(e.artReact(rs[2], artist, "p1", "😍"))
	if _, err := e.eng.OnReactionRemoved(e.ctx, kudos.ReactionRemoved{GiverID: rs[2], ReceiverID: artist, MessageID: "p1", ChannelID: "art", Emoji: "😍"}); err != nil {
		t.Fatal(err)
	}
	bot := e.artReact(rs[3], artist, "p1", "😍")
	bot.GiverIsBot = true
	if out := e.mustReact(bot); out.ArtRecorded {
		t.Fatal("a bot's reaction was recorded for the art tally")
	}
	e.mustReact(e.artReact(artist, artist, "p1", "😍"))
	// Removing one of two emojis keeps the reactor.
	if _, err := e.eng.OnReactionRemoved(e.ctx, kudos.ReactionRemoved{GiverID: rs[0], MessageID: "p1", ChannelID: "art", Emoji: "🔥"}); err != nil {
		t.Fatal(err)
	}
	// p2: five reactors, capped at 6 per post. p3: one reactor, over the artist's daily cap.
	for _, r := range rs {
		e.mustReact(e.artReact(r, artist, "p2", "👍"))
	}
	e.mustReact(e.artReact(rs[0], artist, "p3", "👍"))
	// Not an art channel.
	if out := e.mustReact(e.reaction(rs[0], other, "elsewhere", "👍")); out.ArtRecorded {
		t.Fatal("a reaction outside the art channels was recorded")
	}
	// The next day: counted in the next day's tally.
	e.clock.Advance(24 * time.Hour)
	e.mustReact(e.artReact(rs[0], other, "p4", "👍"))

	ran, err := e.eng.ArtTally(e.ctx, t0)
	if err != nil || !ran {
		t.Fatalf("art tally: ran %v, %v", ran, err)
	}
	if a, o := e.artEarnings(artist), e.artEarnings(other); a != 10 || o != 0 {
		t.Fatalf("day 1: artist %d other %d, want 10 and 0", a, o)
	}
	if ran, err := e.eng.ArtTally(e.ctx, t0.Add(time.Hour)); err != nil || ran {
		t.Fatalf("the same day again: ran %v, %v", ran, err)
	}
	e.clock.Advance(24 * time.Hour)
	if ran, err := e.eng.ArtTally(e.ctx, t0.Add(24*time.Hour)); err != nil || !ran {
		t.Fatalf("day 2: ran %v, %v", ran, err)
	}
	if a, o := e.artEarnings(artist), e.artEarnings(other); a != 10 || o != 2 {
		t.Fatalf("day 2: artist %d other %d, want 10 and 2", a, o)
	}
	e.verify()
}

type memberDirectory func(ctx context.Context, roles []string) (map[string][]int64, error)

func (f memberDirectory) MembersWithRoles(ctx context.Context, roles []string) (map[string][]int64, error) {
	return f(ctx, roles)
}

func TestCatchUpRunsMissedTalliesOnce(t *testing.T) {
	cfg := testConfig()
	cfg.Recurring = []kudos.RecurringGrant{{Role: "patron", Amount: 50}, {Role: "booster", Amount: 20}}
	var boards []kudos.Leaderboard
	var holders map[string][]int64
	dir := memberDirectory(func(_ context.Context, roles []string) (map[string][]int64, error) { return holders, nil })
	e := newEnv(t, cfg, kudos.WithMembers(dir), kudos.WithOnLeaderboard(func(_ context.Context, lb kudos.Leaderboard) error {
		boards = append(boards, lb)
		return nil
	}))
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	bad := e.user("bad", flagged)
	holders = map[string][]int64{"patron": {alice, bob, bad}, "booster": {alice}}

	// Last week (t0 is a Wednesday): awards to bob and carol, settled.
	e.clock.Set(t0.AddDate(0, 0, -7))
	e.mustReact(e.reaction(alice, bob, "lw1", "🙏"))
	e.mustReact(e.reaction(carol, bob, "lw2", "🙏"))
	e.mustReact(e.reaction(alice, carol, "lw3", "🎨"))
	e.clock.Advance(time.Hour)
	if n := e.settle(); n != 3 {
		t.Fatalf("settled %d, want 3", n)
	}
	// Yesterday: an art post with two reactors.
	e.clock.Set(t0.Add(-24 * time.Hour))
	e.mustReact(e.artReact(alice, carol, "art1", "😍"))
	e.mustReact(e.artReact(bob, carol, "art1", "😍"))

	// The process starts today, having missed every scheduled run.
	e.clock.Set(t0)
	for range 2 {
		if err := e.eng.CatchUp(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(boards) != 1 {
		t.Fatalf("leaderboard posted %d times, want 1", len(boards))
	}
	lb := boards[0]
	if lb.Period.Name != "2026-W09" {
		t.Fatalf("leaderboard of %s, want last week 2026-W09", lb.Period.Name)
	}
	if h := lb.Categories[kudos.CategoryHelpful]; len(h) != 1 || h[0] != (kudos.Earner{UserID: bob, Kudos: 10}) {
		t.Fatalf("helpful board %+v", h)
	}
	if a := lb.Categories[kudos.CategoryArt]; len(a) != 1 || a[0] != (kudos.Earner{UserID: carol, Kudos: 3}) {
		t.Fatalf("art board %+v", a)
	}
	if o := lb.Overall; len(o) != 2 || o[0].UserID != bob || o[1].UserID != carol {
		t.Fatalf("overall board %+v", o)
	}
	// Recurring: alice patron + booster, bob patron, the flagged user nothing; once.
	// Art: carol's post, 2 reactors x 2, once.
	want := map[int64]int64{alice: 70, bob: 10 + 50, carol: 3 + 4, bad: 0}
	for u, k := range want {
		if b := e.balance(u); b != k {
			t.Fatalf("user %d has %d, want %d", u, b, k)
		}
	}
	// Without a member directory nothing is recorded, so the month is still paid later.
	e2 := newEnv(t, cfg)
	if ran, err := e2.eng.RecurringTally(e2.ctx, t0); err != nil || ran {
		t.Fatalf("recurring without a directory: ran %v, %v", ran, err)
	}
	e.verify()
}

func TestCleanup(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob := e.user("alice"), e.user("bob")
	e.mustReact(e.reaction(alice, bob, "old-revoked", "🙏"))
	if _, err := e.eng.OnReactionRemoved(e.ctx, kudos.ReactionRemoved{GiverID: alice, MessageID: "old-revoked", Emoji: "🙏"}); err != nil {
		t.Fatal(err)
	}
	e.mustReact(e.reaction(alice, bob, "old-settled", "❤️"))
	e.mustReact(e.artReact(alice, bob, "old-art", "😍"))
	e.clock.Advance(time.Hour)
	e.settle()
	e.clock.Advance(36 * 24 * time.Hour)
	e.mustReact(e.reaction(alice, bob, "new-pending", "🙏"))
	n, err := e.eng.Cleanup(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // the revoked award and the two art rows
		t.Fatalf("cleanup deleted %d rows, want 3", n)
	}
	for msg, want := range map[string]int{"old-revoked": 0, "old-settled": 1, "new-pending": 1} {
		if a, err := e.st.Awards(e.ctx, msg); err != nil || len(a) != want {
			t.Fatalf("awards of %s after cleanup: %d (%v), want %d", msg, len(a), err, want)
		}
	}
	if b := e.balance(bob); b != 5 {
		t.Fatalf("cleanup changed a balance: bob %d, want 5", b)
	}
}

// TestCatchUpAfterRestartDoesNotRepeat: tally runs are durable, so a process
// restarted after a catch-up does not pay the same period again.
func TestCatchUpAfterRestartDoesNotRepeat(t *testing.T) {
	dir := t.TempDir()
	clock := storetest.NewClock(t0.Add(-24 * time.Hour))
	open := func() (*store.Store, *kudos.Engine) {
		st, err := store.Open(context.Background(), storetest.Database(t, dir), store.Options{Clock: clock, Logger: quiet, MaxConns: storetest.TestMaxConns})
		if err != nil {
			t.Fatal(err)
		}
		eng, err := kudos.New(st, testConfig(), clock, kudos.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		return st, eng
	}
	st, eng := open()
	e := &env{tb: t, ctx: context.Background(), st: st, eng: eng, clock: clock}
	artist, fan := e.user("artist"), e.user("fan")
	e.mustReact(e.artReact(fan, artist, "post", "😍"))
	clock.Set(t0)
	for restart := 0; restart < 3; restart++ {
		if err := eng.CatchUp(e.ctx); err != nil {
			t.Fatal(err)
		}
		if b, err := eng.Balance(e.ctx, artist); err != nil || b != 2 {
			t.Fatalf("after restart %d the artist has %d (%v), want 2", restart, b, err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		st, eng = open()
		e.st, e.eng = st, eng
	}
	_ = st.Close()
}
