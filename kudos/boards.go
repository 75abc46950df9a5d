package kudos

import (
	"context"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde/errs"
)

// Span is a leaderboard's window: the week or the month containing a time,
// or all time.
type Span string

// The spans the web leaderboard offers; /kudos leaderboard shows SpanWeek.
const (
	SpanWeek  Span = "week"
	SpanMonth Span = "month"
	SpanAll   Span = "all"
)

// Spans lists every span, in display order.
var Spans = []Span{SpanWeek, SpanMonth, SpanAll}

// WorkerRewardKinds are the ledger kinds a worker's owner earns by running
// it: the reward per job and the uptime bonus.
var WorkerRewardKinds = []EntryKind{KindGeneration, KindUptime}

// Board is a leaderboard over a span: the award categories exactly as
// Leaderboard ranks them for a week, and the worker owners by their
// workers' rewards.
type Board struct {
	Span       Span
	Period     Period
	Categories map[Category][]Earner
	Workers    []Earner
}

// Board ranks the top earners (LeaderboardSize of each) over span at now.
// For SpanWeek its Categories are Leaderboard(now)'s: both read them with
// categoryTops. An unknown span is KindInvalid.
func (e *Engine) Board(ctx context.Context, span Span, now time.Time) (Board, error) {
	var p Period
	switch span {
	case SpanWeek:
		p = Week(now, e.loc)
	case SpanMonth:
		p = Month(now, e.loc)
	case SpanAll:
		// Every entry up to now; the end is a day ahead so that an entry
		// written while the page renders is not cut by clock skew.
		p = Period{Name: "all time", From: time.Unix(0, 0), To: now.Add(24 * time.Hour)}
	default:
		return Board{}, errs.Invalidf("span", "unknown leaderboard span %q", span)
	}
	n := e.boardSize()
	cats, err := e.categoryTops(ctx, p, n)
	if err != nil {
		return Board{}, err
	}
	workers, err := e.store.Earnings(ctx, WorkerRewardKinds, p.From, p.To, n)
	if err != nil {
		return Board{}, fmt.Errorf("leaderboard %s, worker rewards: %w", p.Name, err)
	}
	return Board{Span: span, Period: p, Categories: cats, Workers: workers}, nil
}

// boardSize is how many members each board lists.
func (e *Engine) boardSize() int {
	if e.cfg.LeaderboardSize <= 0 {
		return 10
	}
	return e.cfg.LeaderboardSize
}

// categoryTops ranks the top n earners of each award category in p.
func (e *Engine) categoryTops(ctx context.Context, p Period, n int) (map[Category][]Earner, error) {
	out := make(map[Category][]Earner, len(Categories))
	for _, c := range Categories {
		top, err := e.store.Earnings(ctx, []EntryKind{c.Kind()}, p.From, p.To, n)
		if err != nil {
			return nil, fmt.Errorf("leaderboard %s, %s: %w", p.Name, c, err)
		}
		out[c] = top
	}
	return out, nil
}
