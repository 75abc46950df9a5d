package kudos_test

import (
	"context"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// TestRunCatchesUpThenStops: Run does the catch-up before it schedules
// anything, and returns once its context ends.
func TestRunCatchesUpThenStops(t *testing.T) {
	e := newEnv(t, testConfig())
	loc := e.eng.Location()
	want := []struct{ name, period string }{
		{kudos.TallyArt, kudos.Day(t0.AddDate(0, 0, -1), loc).Name},
		{kudos.TallyLeaderboard, kudos.Week(t0.AddDate(0, 0, -7), loc).Name},
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.eng.Run(ctx) }()
	// Wait (without a deadline of our own: the test binary's timeout is
	// the limit) until the catch-up has recorded both runs.
	for _, w := range want {
		for {
			ran, err := e.st.TallyRan(e.ctx, w.name, w.period)
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
