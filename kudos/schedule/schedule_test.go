package schedule_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/kudos/schedule"
	"github.com/hordebot/hordebot/store/storetest"
)

// t0 is a Wednesday noon in UTC: far from day and week boundaries.
var t0 = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

var quiet = slog.New(slog.DiscardHandler)

// TestRunCatchesUpThenStops: Run does the catch-up before it schedules
// anything, and returns once its context ends.
func TestRunCatchesUpThenStops(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(t0)
	st := storetest.MustOpen(t, t.TempDir(), clock)
	cfg := kudos.DefaultConfig()
	cfg.Timezone = "UTC"
	eng, err := kudos.New(st, cfg, clock, kudos.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	loc := eng.Location()
	want := []struct{ name, period string }{
		{kudos.TallyArt, kudos.Day(t0.AddDate(0, 0, -1), loc).Name},
		{kudos.TallyLeaderboard, kudos.Week(t0.AddDate(0, 0, -7), loc).Name},
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- schedule.Run(rctx, eng, quiet) }()
	// Wait (without a deadline of our own: the test binary's timeout is
	// the limit) until the catch-up has recorded both runs.
	for _, w := range want {
		for {
			ran, err := st.TallyRan(ctx, w.name, w.period)
			if err != nil {
				t.Fatal(err)
			}
			if ran {
				break
			}
			select {
			case err := <-done:
				t.Fatalf("run returned before the catch-up of %s %s: %v", w.name, w.period, err)
			case <-time.After(time.Millisecond):
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestValidate: a schedule that is not a cron spec is refused, naming its
// key; the defaults and an empty spec (the job disabled) are accepted.
func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*kudos.Schedules)
		want string // "" for valid
	}{
		{"defaults", func(*kudos.Schedules) {}, ""},
		{"empty disables", func(s *kudos.Schedules) { s.Recurring = "" }, ""},
		{"descriptor", func(s *kudos.Schedules) { s.Settle = "@every 1m" }, ""},
		{"bad schedule", func(s *kudos.Schedules) { s.ArtTally = "every day" }, "art_tally"},
		{"bad leaderboard", func(s *kudos.Schedules) { s.Leaderboard = "61 * * * *" }, "leaderboard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := kudos.DefaultConfig().Schedules
			tt.edit(&s)
			err := schedule.Validate(s)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error about %q, got %v", tt.want, err)
			}
		})
	}
}
