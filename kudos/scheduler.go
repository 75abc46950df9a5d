package kudos

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// jobTimeout bounds one scheduled job so that a stuck store cannot pile up runs.
const jobTimeout = 5 * time.Minute

// Run catches up missed tallies, then runs the configured schedules in the
// engine's timezone until ctx ends, and waits for a running job to finish.
// Scheduled tallies run for the period just closed: the art tally for
// yesterday, the leaderboard for last week; recurring grants for the month
// that starts. Each is recorded in tally_runs and never runs twice.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.CatchUp(ctx); err != nil {
		// A failed catch-up is retried at the next scheduled run; the
		// schedules must still start.
		e.log.Error("kudos catch-up", "err", err)
	}
	logger := cronLogger{e.log}
	c := cron.New(cron.WithLocation(e.loc), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	jobs := []struct {
		name, spec string
		run        func(context.Context) error
	}{
		{TallyArt, e.cfg.Schedules.ArtTally, func(ctx context.Context) error {
			_, err := e.ArtTally(ctx, Day(e.clock.Now(), e.loc).From.AddDate(0, 0, -1))
			return err
		}},
		{TallyLeaderboard, e.cfg.Schedules.Leaderboard, func(ctx context.Context) error {
			_, err := e.LeaderboardTally(ctx, Week(e.clock.Now(), e.loc).From.AddDate(0, 0, -7))
			return err
		}},
		{TallyRecurring, e.cfg.Schedules.Recurring, func(ctx context.Context) error {
			_, err := e.RecurringTally(ctx, e.clock.Now())
			return err
		}},
		{"cleanup", e.cfg.Schedules.Cleanup, func(ctx context.Context) error {
			n, err := e.Cleanup(ctx)
			if n > 0 {
				e.log.Info("kudos cleanup", "deleted", n)
			}
			return err
		}},
		{"settle", e.cfg.Schedules.Settle, func(ctx context.Context) error {
			_, err := e.Settle(ctx)
			return err
		}},
	}
	for _, j := range jobs {
		if j.spec == "" {
			continue
		}
		if _, err := c.AddFunc(j.spec, func() {
			jctx, cancel := context.WithTimeout(ctx, jobTimeout)
			defer cancel()
			if err := j.run(jctx); err != nil {
				e.log.Error("kudos scheduled job", "job", j.name, "err", err)
			}
		}); err != nil {
			return fmt.Errorf("schedule %s %q: %w", j.name, j.spec, err)
		}
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// cronLogger sends robfig/cron's logs to slog; its routine messages are debug.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
