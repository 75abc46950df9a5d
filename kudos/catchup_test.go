package kudos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
)

// crashingStore is a real store whose CompleteTally fails from the failAt-th
// call on, as a process killed in the middle of a catch-up would stop.
type crashingStore struct {
	*store.Store
	calls, failAt int
}

var errCrash = errors.New("process killed")

func (s *crashingStore) CompleteTally(ctx context.Context, name, period string, entries []kudos.Entry, at time.Time) (bool, error) {
	s.calls++
	if s.calls >= s.failAt {
		return false, errCrash
	}
	return s.Store.CompleteTally(ctx, name, period, entries, at)
}

// artDays reports which of days the art tally has run for.
func (e *env) artDays(days []time.Time) []bool {
	e.tb.Helper()
	ran := make([]bool, len(days))
	for i, d := range days {
		var err error
		if ran[i], err = e.st.TallyRan(e.ctx, kudos.TallyArt, kudos.Day(d, time.UTC).Name); err != nil {
			e.tb.Fatal(err)
		}
	}
	return ran
}

// TestCatchUpTalliesEveryMissedDayOnce: after a 3-day outage every missed
// day's art tally runs, each once, even when the process dies in the middle
// of the catch-up and starts again.
func TestCatchUpTalliesEveryMissedDayOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	fan := e.user("fan")
	// The art tally last ran on t0 for the day before.
	e.clock.Set(t0.Add(-24 * time.Hour))
	e.mustReact(e.artReact(fan, e.user("before"), "p-before", "😍"))
	e.clock.Set(t0)
	if err := e.eng.CatchUp(e.ctx); err != nil {
		t.Fatal(err)
	}
	// Then the process is down for three days; art is posted on each of them.
	days := []time.Time{t0, t0.Add(24 * time.Hour), t0.Add(48 * time.Hour)}
	artists := make([]int64, len(days))
	for i, d := range days {
		e.clock.Set(d)
		artists[i] = e.user("artist" + string(rune('a'+i)))
		e.mustReact(e.artReact(fan, artists[i], "p"+string(rune('a'+i)), "😍"))
	}
	e.clock.Set(t0.Add(72 * time.Hour))

	// The restart's catch-up dies after tallying the first missed day.
	crashing := &crashingStore{Store: e.st, failAt: 2}
	eng, err := kudos.New(crashing, e.cfg, e.clock, kudos.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.CatchUp(e.ctx); !errors.Is(err, errCrash) {
		t.Fatalf("catch-up through a dying store: %v, want the crash", err)
	}
	if got := e.artDays(days); !got[0] || got[1] || got[2] {
		t.Fatalf("after the crash the days ran %v, want only the first", got)
	}
	// The next start finishes the catch-up; later starts and scheduled runs change nothing.
	for start := range 3 {
		if start < 2 {
			if err := e.eng.CatchUp(e.ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			for _, j := range e.eng.Jobs() {
				if j.Name == kudos.TallyArt {
					if err := j.Run(e.ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if got := e.artDays(days); !got[0] || !got[1] || !got[2] {
			t.Fatalf("start %d: the missed days ran %v, want all three", start, got)
		}
		for i, a := range artists {
			if b := e.balance(a); b != 2 {
				t.Fatalf("start %d: the artist of day %d has %d, want 2 (one reactor, paid once)", start, i+1, b)
			}
		}
	}
	e.verify()
}

// TestCatchUpIsBounded: a longer outage tallies only the most recent
// catch_up_periods days; a missed week's leaderboards are posted in order,
// once each.
func TestCatchUpIsBounded(t *testing.T) {
	cfg := testConfig()
	cfg.CatchUpPeriods = 3
	var boards []string
	e := newEnv(t, cfg, kudos.WithOnLeaderboard(func(_ context.Context, lb kudos.Leaderboard) error {
		boards = append(boards, lb.Period.Name)
		return nil
	}))
	if err := e.eng.CatchUp(e.ctx); err != nil { // t0: runs for 2026-03-03 and 2026-W09
		t.Fatal(err)
	}
	fan := e.user("fan")
	var days []time.Time
	artists := make([]int64, 5)
	for i := range artists { // posts on 2026-03-04 .. 2026-03-08
		d := t0.Add(time.Duration(i) * 24 * time.Hour)
		days = append(days, d)
		e.clock.Set(d)
		artists[i] = e.user("artist" + string(rune('a'+i)))
		e.mustReact(e.artReact(fan, artists[i], "p"+string(rune('a'+i)), "😍"))
	}
	// Down until 2026-03-30 (a Monday): 26 days and weeks W10..W13 missed.
	e.clock.Set(time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC))
	for range 2 {
		if err := e.eng.CatchUp(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range artists {
		if b := e.balance(a); b != 0 {
			t.Fatalf("the artist of %s earned %d from a day beyond the bound", days[i].Format(time.DateOnly), b)
		}
	}
	recent := []time.Time{time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)}
	if got := e.artDays(recent); !got[0] || !got[1] || !got[2] {
		t.Fatalf("the three most recent days ran %v, want all", got)
	}
	if got := e.artDays([]time.Time{time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC)}); got[0] {
		t.Fatal("a fourth day ran past catch_up_periods = 3")
	}
	want := []string{"2026-W09", "2026-W11", "2026-W12", "2026-W13"}
	if len(boards) != len(want) {
		t.Fatalf("leaderboards posted %v, want %v", boards, want)
	}
	for i := range want {
		if boards[i] != want[i] {
			t.Fatalf("leaderboards posted %v, want %v", boards, want)
		}
	}
}
