package kudos_test

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// TestBoard: the week's board ranks the categories exactly as the weekly
// Leaderboard does (the web page and /kudos leaderboard show one set of
// numbers), the month and all time reach further back, and worker
// rewards (jobs and uptime) are a board of their own.
func TestBoard(t *testing.T) {
	e := newEnv(t, kudos.DefaultConfig())
	ada, bob := e.user("ada"), e.user("bob")
	n := 0
	pay := func(user, delta int64, kind kudos.EntryKind, daysAgo int) {
		t.Helper()
		n++
		if _, err := e.st.Apply(e.ctx, kudos.Entry{UserID: user, Delta: delta, Kind: kind, Key: "b" + strconv.Itoa(n),
			Floor: kudos.NoFloor, At: t0.AddDate(0, 0, -daysAgo)}); err != nil {
			t.Fatal(err)
		}
	}
	pay(ada, 5, kudos.KindAwardHelpful, 0)
	pay(bob, 9, kudos.KindAwardHelpful, 1)
	pay(ada, 7, kudos.KindAwardArt, 20)     // before this week
	pay(bob, 40, kudos.KindGeneration, 0)   // worker rewards
	pay(bob, 5, kudos.KindUptime, 0)        //   and uptime count together
	pay(ada, 100, kudos.KindGeneration, 60) // long ago: all time only
	pay(ada, -3, kudos.KindRequestCost, 0)  // spending ranks nowhere

	lb, err := e.eng.Leaderboard(e.ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	week, err := e.eng.Board(e.ctx, kudos.SpanWeek, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(week.Categories, lb.Categories) || week.Period != lb.Period {
		t.Errorf("the week's board %+v differs from the leaderboard %+v", week.Categories, lb.Categories)
	}
	if want := []kudos.Earner{{UserID: bob, Kudos: 9}, {UserID: ada, Kudos: 5}}; !reflect.DeepEqual(week.Categories[kudos.CategoryHelpful], want) {
		t.Errorf("helpful this week: %+v, want %+v", week.Categories[kudos.CategoryHelpful], want)
	}
	if want := []kudos.Earner{{UserID: bob, Kudos: 45}}; !reflect.DeepEqual(week.Workers, want) {
		t.Errorf("worker rewards this week: %+v, want %+v", week.Workers, want)
	}
	all, err := e.eng.Board(e.ctx, kudos.SpanAll, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []kudos.Earner{{UserID: ada, Kudos: 100}, {UserID: bob, Kudos: 45}}; !reflect.DeepEqual(all.Workers, want) {
		t.Errorf("worker rewards of all time: %+v, want %+v", all.Workers, want)
	}
	if len(all.Categories[kudos.CategoryArt]) != 1 || len(week.Categories[kudos.CategoryArt]) != 0 {
		t.Errorf("art: all time %+v, this week %+v; want the award 20 days ago in all time only", all.Categories[kudos.CategoryArt], week.Categories[kudos.CategoryArt])
	}
	if _, err := e.eng.Board(e.ctx, kudos.Span("year"), t0); !horde.IsKind(err, horde.KindInvalid) {
		t.Errorf("unknown span: %v, want Invalid", err)
	}
}
