package kudos

import (
	"context"
)

// Job is one of the engine's scheduled jobs: what it does when its schedule
// fires, and the schedule (a Schedules spec, read by the runner at the
// edge: kudos/schedule). The engine decides what a run means (which period
// it tallies; a tally already run for its period does nothing, see
// tally_runs); the runner only decides when.
type Job struct {
	Name string // TallyArt, TallyLeaderboard, TallyRecurring, "cleanup", "settle" or "parties"
	Spec string // the configured schedule; "" disables the job
	Run  func(ctx context.Context) error
}

// Jobs returns the scheduled jobs, in the order they are configured.
// Scheduled tallies run for the period just closed, reckoned in the engine's
// timezone by its clock: the art tally for yesterday, the leaderboard for
// last week; recurring grants for the month that starts; each also tallies
// the periods it missed since it last ran (bounded, as CatchUp). Before
// scheduling them, a runner calls CatchUp once.
func (e *Engine) Jobs() []Job {
	s := e.cfg.Schedules
	return []Job{
		{TallyArt, s.ArtTally, func(ctx context.Context) error { return e.catchUpTally(ctx, TallyArt) }},
		{TallyLeaderboard, s.Leaderboard, func(ctx context.Context) error { return e.catchUpTally(ctx, TallyLeaderboard) }},
		{TallyRecurring, s.Recurring, func(ctx context.Context) error { return e.catchUpTally(ctx, TallyRecurring) }},
		{"cleanup", s.Cleanup, func(ctx context.Context) error {
			n, err := e.Cleanup(ctx)
			if n > 0 {
				e.log.Info("kudos cleanup", "deleted", n)
			}
			return err
		}},
		{"settle", s.Settle, func(ctx context.Context) error {
			_, err := e.Settle(ctx)
			return err
		}},
		{"parties", s.Parties, e.endDuePartiesJob},
	}
}

// endDuePartiesJob ends (and refunds) every party whose end time passed,
// whichever guild it is in: the holder of the kudos schedules runs it, a
// process with or without Discord. The summaries are posted by a process
// with the guild's gateway shard (commands.Set.EndParties), which finds
// them ended and unannounced. Each party ends once, whoever else tries.
func (e *Engine) endDuePartiesJob(ctx context.Context) error {
	for {
		ended, err := e.EndDueParties(ctx, nil)
		if err != nil {
			return err
		}
		if len(ended) > 0 {
			e.log.Info("parties ended by their end time", "count", len(ended))
		}
		if len(ended) < partyBatch {
			return nil
		}
	}
}
