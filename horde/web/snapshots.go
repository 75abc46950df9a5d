package web

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// Recorder writes the per-minute status snapshots the charts draw and
// prunes those past the history it keeps.
type Recorder struct {
	h       Horde
	st      Store
	clock   horde.Clock
	log     *slog.Logger
	history time.Duration
}

// NewRecorder returns a recorder keeping history (31 days when zero: the
// month chart's 30 and a day of margin).
func NewRecorder(h Horde, st Store, clock horde.Clock, log *slog.Logger, history time.Duration) *Recorder {
	if history <= 0 {
		history = MonthRange + 24*time.Hour
	}
	if clock == nil {
		clock = horde.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{h: h, st: st, clock: clock, log: log, history: history}
}

// Record writes the snapshot of the minute containing now: the queue and
// the workers online as they are, the requests that finished in the minute
// before it and their median wait, and a minute of uptime for each online
// worker. A minute written already changes nothing (false).
func (rc *Recorder) Record(ctx context.Context, now time.Time) (bool, error) {
	minute := now.UTC().Truncate(time.Minute)
	perf, err := rc.h.Performance(ctx)
	if err != nil {
		return false, fmt.Errorf("snapshot %s: %w", minute.Format(time.RFC3339), err)
	}
	fin, err := rc.st.FinishedBetween(ctx, minute.Add(-time.Minute), minute)
	if err != nil {
		return false, fmt.Errorf("snapshot %s: %w", minute.Format(time.RFC3339), err)
	}
	workers, err := rc.h.Workers(ctx, "")
	if err != nil {
		return false, fmt.Errorf("snapshot %s: %w", minute.Format(time.RFC3339), err)
	}
	var online []string
	for _, w := range workers {
		if w.Online(now) {
			online = append(online, w.ID)
		}
	}
	s := Snapshot{
		At:            minute,
		ImageQueue:    int64(perf.QueuedRequests),
		TextQueue:     int64(perf.QueuedTextRequests),
		ImageWorkers:  int64(perf.WorkerCount),
		TextWorkers:   int64(perf.TextWorkerCount),
		ImageFinished: fin.ImageItems,
		TextFinished:  fin.TextItems,
		MedianWait:    median(fin.Waits),
	}
	ok, err := rc.st.RecordSnapshot(ctx, s, online)
	if err != nil {
		return false, fmt.Errorf("snapshot %s: %w", minute.Format(time.RFC3339), err)
	}
	return ok, nil
}

// Prune deletes the snapshots older than the history kept.
func (rc *Recorder) Prune(ctx context.Context, now time.Time) (int64, error) {
	n, err := rc.st.PruneSnapshots(ctx, now.Add(-rc.history))
	if err != nil {
		return 0, fmt.Errorf("prune snapshots: %w", err)
	}
	return n, nil
}

// Run records a snapshot every minute (shortly after the minute turns) and
// prunes once an hour, until ctx ends.
func (rc *Recorder) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		now := rc.clock.Now()
		if _, err := rc.Record(ctx, now); err != nil && ctx.Err() == nil {
			rc.log.Error("status snapshot", "err", err)
		}
		if now.Sub(lastPrune) >= time.Hour {
			if n, err := rc.Prune(ctx, now); err != nil && ctx.Err() == nil {
				rc.log.Error("status snapshot", "err", err)
			} else if n > 0 {
				rc.log.Info("status snapshots pruned", "rows", n)
			}
			lastPrune = now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// median is the middle wait (the mean of the two middle ones for an even
// count); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
