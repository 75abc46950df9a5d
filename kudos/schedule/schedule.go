// Package schedule runs the kudos engine's scheduled jobs (kudos.Engine.Jobs)
// on their robfig/cron schedules, in the engine's timezone: the wall-clock
// runner at the edge, so that package kudos keeps only what a run means
// (which period is due, each tallied once) and its tests use an injected
// clock. Only cmd/hordebot uses it.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/hordebot/hordebot/kudos"
)

// jobTimeout bounds one scheduled job so that a stuck store cannot pile up runs.
const jobTimeout = 5 * time.Minute

// Validate checks that every schedule is a robfig/cron spec (5 fields, or a
// descriptor such as "@hourly" or "@every 1m"); an empty spec disables its
// job. The error names each bad key (schedules.art_tally ...).
func Validate(s kudos.Schedules) error {
	var problems []string
	for _, j := range []struct{ name, spec string }{
		{"art_tally", s.ArtTally}, {"leaderboard", s.Leaderboard}, {"recurring", s.Recurring},
		{"cleanup", s.Cleanup}, {"settle", s.Settle}, {"parties", s.Parties},
	} {
		if j.spec == "" {
			continue
		}
		if _, err := cron.ParseStandard(j.spec); err != nil {
			problems = append(problems, fmt.Sprintf("schedules.%s %q: %v", j.name, j.spec, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("kudos config: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Run catches up missed tallies (e.CatchUp), then runs e's jobs on their
// schedules in e's timezone until ctx ends, and waits for a running job to
// finish. A job still running when its schedule fires again is skipped; a
// job's failure (or panic) is logged and the schedules go on.
func Run(ctx context.Context, e *kudos.Engine, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if err := e.CatchUp(ctx); err != nil {
		// A failed catch-up is retried at the next scheduled run; the
		// schedules must still start.
		log.Error("kudos catch-up", "err", err)
	}
	logger := cronLogger{log}
	c := cron.New(cron.WithLocation(e.Location()), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	for _, j := range e.Jobs() {
		if j.Spec == "" {
			continue
		}
		if _, err := c.AddFunc(j.Spec, func() {
			jctx, cancel := context.WithTimeout(ctx, jobTimeout)
			defer cancel()
			if err := j.Run(jctx); err != nil {
				log.Error("kudos scheduled job", "job", j.Name, "err", err)
			}
		}); err != nil {
			return fmt.Errorf("schedule %s %q: %w", j.Name, j.Spec, err)
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
