package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/hordebot/hordebot/store"
)

// The periodic work that several processes on one PostgreSQL database must
// run once runs in the holder of its lease (store.Leases: an advisory lock
// on a session of its own). Another process takes a lease over within
// about a second of its holder's session ending, and its work starts there
// afresh (the kudos schedules with their catch-up, so a period missed
// during the handover is tallied, once). On SQLite every lease is held at
// once: one process runs everything, as before.
//
// The leases, by name:
const (
	// leaseSweeps: the shared queue's TTL aborts and request expiry
	// (horde.RunShared). The sweeps of what each process keeps in memory
	// (horde.RunLocal) run in every process, under no lease.
	leaseSweeps = "sweeps"
	// leaseKudosSchedules: the kudos engine's schedules (schedule.Run): the
	// catch-up, the art tally, the leaderboard, the recurring grants, the
	// settling of due awards and the kudos cleanup.
	leaseKudosSchedules = "kudos-schedules"
	// leaseRetention: the store's retention and orphan-image sweep
	// (store.RunRetention).
	leaseRetention = "retention"
	// leaseWebSnapshots: the web pages' per-minute status snapshots.
	leaseWebSnapshots = "web-snapshots"
)

// allLeases are every lease's name: a session holding one is a running
// process (migrate-data refuses to copy from under it).
var allLeases = []string{leaseSweeps, leaseKudosSchedules, leaseRetention, leaseWebSnapshots}

// leaser is what the periodic work needs of the database: a lease, by
// name, that one process of those sharing the database holds at a time.
// Hold waits until this process holds name, and returns the context to run
// the work in (it ends when the lease is lost or ctx ends) and release.
type leaser interface {
	Hold(ctx context.Context, name string) (held context.Context, release func(), err error)
}

var _ leaser = (*store.Leases)(nil)

// runLeased runs work under lease name until ctx ends: it waits for the
// lease, logs "lease acquired" and runs work in the lease's context; when
// the lease is lost it logs so, the work stops (its context ends), and it
// waits for the lease again. work is expected to run until its context
// ends; if it returns before that, runLeased gives the lease up and returns.
func runLeased(ctx context.Context, l leaser, log *slog.Logger, name string, work func(context.Context) error) {
	for ctx.Err() == nil {
		held, release, err := l.Hold(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("lease: cannot wait for it; its work does not run in this process", "lease", name, "err", err)
			}
			return
		}
		log.Info("lease acquired", "lease", name)
		err = work(held)
		lost := held.Err() != nil && ctx.Err() == nil
		cause := context.Cause(held)
		release()
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("leased work stopped", "lease", name, "err", err)
		}
		if !lost {
			return
		}
		log.Warn("lease lost: its work stopped until this process holds it again", "lease", name, "cause", cause)
	}
}

// goLeased starts runLeased in the background, counted in a.wg.
func (a *App) goLeased(ctx context.Context, l leaser, name string, work func(context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		runLeased(ctx, l, a.Log, name, work)
	}()
}
