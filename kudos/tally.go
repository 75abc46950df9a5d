package kudos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Tally names, as recorded in tally_runs with their period.
const (
	TallyArt         = "art"
	TallyLeaderboard = "leaderboard"
	TallyRecurring   = "recurring"
)

// Leaderboard is a week's top earners.
type Leaderboard struct {
	Period Period
	// Categories has, per award category, the members who earned the most
	// from awards of that category, most first.
	Categories map[Category][]Earner
	// Overall ranks all award kinds together.
	Overall []Earner
}

// ArtTallyResult is what a daily art tally paid: the day and, per post, its
// author, the reactors counted and the kudos paid, most paid first.
type ArtTallyResult struct {
	Period  Period
	Payouts []ArtPayout
}

// ArtPayout is one art post's share of a tally.
type ArtPayout struct {
	UserID    int64  // the post's author (a horde user id)
	MessageID string // the post
	ChannelID string // the art channel it is in
	Reactors  int    // distinct reactors counted
	Amount    int64  // kudos paid, after the post and daily caps
}

// Total is the kudos the tally paid altogether.
func (r ArtTallyResult) Total() int64 {
	var sum int64
	for _, p := range r.Payouts {
		sum += p.Amount
	}
	return sum
}

// ArtTally pays the posts in art channels for the day containing day: a
// post earns PerReactor per distinct human reactor whose first reaction fell
// on that day and is still there, at most PostCap, and an author at most
// DailyCap from one tally. Flagged and unknown authors earn nothing. It runs
// once per day: it returns false (and pays nothing) if that day was done.
// When it paid someone, the OnArtTally callback gets the payouts.
func (e *Engine) ArtTally(ctx context.Context, day time.Time) (bool, error) {
	p := Day(day, e.loc)
	if done, err := e.store.TallyRan(ctx, TallyArt, p.Name); err != nil || done {
		return false, wrapTally(TallyArt, p, err)
	}
	posts, err := e.store.ArtPosts(ctx, p.From, p.To)
	if err != nil {
		return false, wrapTally(TallyArt, p, err)
	}
	var entries []Entry
	result := ArtTallyResult{Period: p}
	if len(posts) > 0 && e.cfg.Art.PerReactor > 0 {
		ids := make([]int64, 0, len(posts))
		for _, post := range posts {
			ids = append(ids, post.AuthorID)
		}
		st, err := e.store.Standings(ctx, ids)
		if err != nil {
			return false, wrapTally(TallyArt, p, err)
		}
		// The most appreciated posts first, so an author's daily cap keeps their best.
		sort.SliceStable(posts, func(i, j int) bool {
			if posts[i].Reactors != posts[j].Reactors {
				return posts[i].Reactors > posts[j].Reactors
			}
			return posts[i].MessageID < posts[j].MessageID
		})
		earned := map[int64]int64{}
		now := e.clock.Now()
		for _, post := range posts {
			s, ok := st[post.AuthorID]
			if !ok || s.Flagged || post.AuthorID == anonymousID {
				continue
			}
			amount := int64(post.Reactors) * e.cfg.Art.PerReactor
			if e.cfg.Art.PostCap > 0 {
				amount = min(amount, e.cfg.Art.PostCap)
			}
			if e.cfg.Art.DailyCap > 0 {
				amount = min(amount, e.cfg.Art.DailyCap-earned[post.AuthorID])
			}
			if amount <= 0 {
				continue
			}
			earned[post.AuthorID] += amount
			entries = append(entries, Entry{
				UserID: post.AuthorID, Delta: amount, Kind: KindAwardArt,
				Reason: fmt.Sprintf("art tally %s: %d reactors", p.Name, post.Reactors),
				Ref:    post.MessageID, Key: "art:" + p.Name + ":" + post.MessageID, Floor: NoFloor, At: now,
			})
			result.Payouts = append(result.Payouts, ArtPayout{
				UserID: post.AuthorID, MessageID: post.MessageID, ChannelID: post.ChannelID,
				Reactors: post.Reactors, Amount: amount,
			})
		}
	}
	ran, err := e.store.CompleteTally(ctx, TallyArt, p.Name, entries, e.clock.Now())
	if err != nil {
		return false, wrapTally(TallyArt, p, err)
	}
	if !ran {
		return false, nil
	}
	e.log.Info("art tally done", "period", p.Name, "posts", len(posts), "paid", len(entries))
	if e.onArtTally != nil && len(result.Payouts) > 0 {
		sort.SliceStable(result.Payouts, func(i, j int) bool { return result.Payouts[i].Amount > result.Payouts[j].Amount })
		if err := e.onArtTally(ctx, result); err != nil {
			e.log.Error("announce art tally", "period", p.Name, "err", err)
		}
	}
	return true, nil
}

// Leaderboard returns the top earners of the week containing week (it
// records nothing: /kudos leaderboard shows the current week with it).
func (e *Engine) Leaderboard(ctx context.Context, week time.Time) (Leaderboard, error) {
	p := Week(week, e.loc)
	n := e.boardSize()
	cats, err := e.categoryTops(ctx, p, n)
	if err != nil {
		return Leaderboard{}, err
	}
	lb := Leaderboard{Period: p, Categories: cats}
	kinds := make([]EntryKind, 0, len(Categories))
	for _, c := range Categories {
		kinds = append(kinds, c.Kind())
	}
	top, err := e.store.Earnings(ctx, kinds, p.From, p.To, n)
	if err != nil {
		return Leaderboard{}, fmt.Errorf("leaderboard %s: %w", p.Name, err)
	}
	lb.Overall = top
	return lb, nil
}

// LeaderboardTally records the week containing week as posted and hands its
// leaderboard to the OnLeaderboard callback, once per week: it returns false
// if the week was already done. A failing callback is logged, not retried
// (a leaderboard posted twice is worse than one missed).
func (e *Engine) LeaderboardTally(ctx context.Context, week time.Time) (bool, error) {
	p := Week(week, e.loc)
	if done, err := e.store.TallyRan(ctx, TallyLeaderboard, p.Name); err != nil || done {
		return false, wrapTally(TallyLeaderboard, p, err)
	}
	lb, err := e.Leaderboard(ctx, week)
	if err != nil {
		return false, err
	}
	ran, err := e.store.CompleteTally(ctx, TallyLeaderboard, lb.Period.Name, nil, e.clock.Now())
	if err != nil || !ran {
		return false, wrapTally(TallyLeaderboard, lb.Period, err)
	}
	if e.onLeaderboard != nil {
		if err := e.onLeaderboard(ctx, lb); err != nil {
			e.log.Error("post leaderboard", "period", lb.Period.Name, "err", err)
		}
	}
	return true, nil
}

// RecurringTally pays the configured monthly grants for the month
// containing month to the members holding each role (a member holding two
// granted roles gets both). Flagged and unknown users get nothing. It runs
// once per month; without grants or a MemberDirectory it does nothing and
// records nothing, so a directory wired later still pays the month.
func (e *Engine) RecurringTally(ctx context.Context, month time.Time) (bool, error) {
	p := Month(month, e.loc)
	if len(e.cfg.Recurring) == 0 {
		return false, nil
	}
	if e.members == nil {
		e.log.Warn("recurring kudos skipped: no member directory", "period", p.Name)
		return false, nil
	}
	if done, err := e.store.TallyRan(ctx, TallyRecurring, p.Name); err != nil || done {
		return false, wrapTally(TallyRecurring, p, err)
	}
	roles := make([]string, 0, len(e.cfg.Recurring))
	for _, g := range e.cfg.Recurring {
		roles = append(roles, g.Role)
	}
	holders, err := e.members.MembersWithRoles(ctx, roles)
	if err != nil {
		return false, wrapTally(TallyRecurring, p, fmt.Errorf("members with roles: %w", err))
	}
	var ids []int64
	for _, us := range holders {
		ids = append(ids, us...)
	}
	var st map[int64]Standing
	if len(ids) > 0 {
		if st, err = e.store.Standings(ctx, ids); err != nil {
			return false, wrapTally(TallyRecurring, p, err)
		}
	}
	now := e.clock.Now()
	var entries []Entry
	seen := map[string]bool{}
	for _, g := range e.cfg.Recurring {
		for _, uid := range holders[g.Role] {
			key := "recurring:" + p.Name + ":" + g.Role + ":" + strconv.FormatInt(uid, 10)
			if s, ok := st[uid]; !ok || s.Flagged || uid == anonymousID || seen[key] {
				continue
			}
			seen[key] = true
			entries = append(entries, Entry{UserID: uid, Delta: g.Amount, Kind: KindRecurring,
				Reason: fmt.Sprintf("monthly kudos %s for role %s", p.Name, g.Role),
				Ref:    "role:" + g.Role, Key: key, Floor: NoFloor, At: now})
		}
	}
	ran, err := e.store.CompleteTally(ctx, TallyRecurring, p.Name, entries, now)
	if err != nil {
		return false, wrapTally(TallyRecurring, p, err)
	}
	if ran {
		e.log.Info("recurring kudos paid", "period", p.Name, "grants", len(entries))
	}
	return ran, nil
}

// Cleanup deletes revoked and never-settled awards and art reaction rows
// older than the retention, and returns how many rows it deleted.
func (e *Engine) Cleanup(ctx context.Context) (int64, error) {
	if e.cfg.Retention <= 0 {
		return 0, nil
	}
	n, err := e.store.CleanupKudos(ctx, e.clock.Now().Add(-e.cfg.Retention.Std()))
	if err != nil {
		return 0, fmt.Errorf("kudos cleanup: %w", err)
	}
	return n, nil
}

// CatchUp tallies, each once, the periods an enabled tally missed while the
// process was down, oldest first: every day since the art tally last ran up
// to yesterday, every week since the leaderboard was last posted up to last
// week, every month since recurring grants were last paid up to this one;
// at most Config.CatchUpPeriods of each (the most recent). A tally that
// never ran (a new install) catches up only its latest period. Each period
// is recorded as it completes, so running it again, or after a restart in
// the middle, tallies nothing twice. The scheduled runs (Jobs) catch up the
// same way, so a run that failed is made good by the next. It also ends the
// parties whose end time passed (when Schedules.Parties is set).
func (e *Engine) CatchUp(ctx context.Context) error {
	s := e.cfg.Schedules
	for _, t := range []struct{ name, spec string }{
		{TallyArt, s.ArtTally}, {TallyLeaderboard, s.Leaderboard}, {TallyRecurring, s.Recurring},
	} {
		if t.spec == "" {
			continue
		}
		if err := e.catchUpTally(ctx, t.name); err != nil {
			return err
		}
	}
	if s.Parties != "" {
		// Parties whose end time passed while no process held the
		// schedules end now, not at the first tick.
		return e.endDuePartiesJob(ctx)
	}
	return nil
}

// catchUpTally runs tally name (TallyArt, TallyLeaderboard or
// TallyRecurring) for each of its missed periods, oldest first.
func (e *Engine) catchUpTally(ctx context.Context, name string) error {
	now := e.clock.Now()
	var (
		latest Period
		prev   func(Period) Period
		run    func(context.Context, time.Time) (bool, error)
	)
	switch name {
	case TallyArt: // yesterday, then the days before
		latest = Day(Day(now, e.loc).From.AddDate(0, 0, -1), e.loc)
		prev = func(p Period) Period { return Day(p.From.AddDate(0, 0, -1), e.loc) }
		run = e.ArtTally
	case TallyLeaderboard: // last week, then the weeks before
		latest = Week(Week(now, e.loc).From.AddDate(0, 0, -7), e.loc)
		prev = func(p Period) Period { return Week(p.From.AddDate(0, 0, -7), e.loc) }
		run = e.LeaderboardTally
	case TallyRecurring: // the month that started, then the months before
		latest = Month(now, e.loc)
		prev = func(p Period) Period { return Month(p.From.AddDate(0, -1, 0), e.loc) }
		run = e.RecurringTally
	default:
		return fmt.Errorf("catch up: unknown tally %q", name)
	}
	missed, err := e.missedPeriods(ctx, name, latest, prev)
	if err != nil {
		return err
	}
	for _, p := range missed {
		if _, err := run(ctx, p.From); err != nil {
			return err
		}
	}
	return nil
}

// missedPeriods lists, oldest first, the periods of tally name from latest
// back to (not including) the last one it ran for, at most CatchUpPeriods
// (at least latest itself); only latest when it never ran.
func (e *Engine) missedPeriods(ctx context.Context, name string, latest Period, prev func(Period) Period) ([]Period, error) {
	last, err := e.store.LastTally(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("catch up %s tally: %w", name, err)
	}
	limit := max(e.cfg.CatchUpPeriods, 1)
	if last == "" {
		limit = 1
	}
	var missed []Period
	for p := latest; len(missed) < limit && p.Name > last; p = prev(p) {
		missed = append(missed, p)
	}
	slices.Reverse(missed)
	return missed, nil
}

func wrapTally(name string, p Period, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s tally %s: %w", name, p.Name, err)
}
