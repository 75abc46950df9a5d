package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

type leaderboardData struct {
	Span   kudos.Span
	Spans  []spanLink
	Period kudos.Period
	Boards []board
}

type spanLink struct {
	Span    kudos.Span
	Label   string
	Current bool
}

type board struct {
	ID, Title string
	Rows      []boardRow
}

type boardRow struct {
	Rank  int
	User  horde.User
	Kudos int64
}

var spanLabels = map[kudos.Span]string{kudos.SpanWeek: "This week", kudos.SpanMonth: "This month", kudos.SpanAll: "All time"}

// leaderboard is GET /leaderboard?span=week|month|all: the kudos engine's
// boards (the numbers /kudos leaderboard shows for the week), by category.
func (w *Handler) leaderboard(ctx context.Context, r *http.Request) (string, page, error) {
	span := kudos.Span(r.URL.Query().Get("span"))
	if span == "" {
		span = kudos.SpanWeek
	}
	if _, ok := spanLabels[span]; !ok {
		return "", page{}, horde.Invalidf("span", "Unknown period: choose this week, this month or all time.")
	}
	now := w.clock.Now()
	b, err := w.boards.get(ctx, string(span), now, func(ctx context.Context) (kudos.Board, error) {
		return w.k.Board(ctx, span, now)
	})
	if err != nil {
		return "", page{}, fmt.Errorf("leaderboard %s: %w", span, err)
	}
	d := leaderboardData{Span: span, Period: b.Period}
	for _, s := range kudos.Spans {
		d.Spans = append(d.Spans, spanLink{Span: s, Label: spanLabels[s], Current: s == span})
	}
	add := func(id, title string, earners []kudos.Earner) error {
		bd := board{ID: id, Title: title}
		for i, e := range earners {
			u, err := w.st.User(ctx, e.UserID)
			if err != nil {
				return fmt.Errorf("leaderboard user %d: %w", e.UserID, err)
			}
			bd.Rows = append(bd.Rows, boardRow{Rank: i + 1, User: u, Kudos: e.Kudos})
		}
		d.Boards = append(d.Boards, bd)
		return nil
	}
	if err := add("workers", "Worker rewards", b.Workers); err != nil {
		return "", page{}, err
	}
	titles := map[kudos.Category]string{kudos.CategoryHelpful: "Helpful", kudos.CategoryArt: "Art", kudos.CategoryModeration: "Moderation"}
	for _, c := range []kudos.Category{kudos.CategoryHelpful, kudos.CategoryArt, kudos.CategoryModeration} {
		if err := add(string(c), titles[c], b.Categories[c]); err != nil {
			return "", page{}, err
		}
	}
	return "leaderboard", page{Title: "Leaderboard", Path: "/leaderboard", Data: d}, nil
}
