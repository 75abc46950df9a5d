package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// The status page's two chart ranges and their buckets: 96 points of 15
// minutes for the day, 120 of 6 hours for the month.
const (
	DayRange    = 24 * time.Hour
	DayBucket   = 15 * time.Minute
	MonthRange  = 30 * 24 * time.Hour
	MonthBucket = 6 * time.Hour
)

type statusData struct {
	Perf        horde.Performance
	ImageModels []horde.ModelStatus
	TextModels  []horde.ModelStatus
	ImageWait   time.Duration // queued work over the past minute's throughput
	TextWait    time.Duration
	Day, Month  []Chart
}

// status is GET /: the queue by kind and model, the workers, throughput and
// wait now, and charts over the last day and month.
func (w *Handler) status(ctx context.Context, _ *http.Request) (string, page, error) {
	var d statusData
	var err error
	if d.Perf, err = w.h.Performance(ctx); err != nil {
		return "", page{}, fmt.Errorf("status: %w", err)
	}
	if d.ImageModels, err = w.h.Models(ctx, horde.KindImage); err != nil {
		return "", page{}, fmt.Errorf("status: %w", err)
	}
	if d.TextModels, err = w.h.Models(ctx, horde.KindText); err != nil {
		return "", page{}, fmt.Errorf("status: %w", err)
	}
	d.ImageWait = waitFor(d.Perf.QueuedMegapixelsteps, d.Perf.PastMinuteMegapixelsteps)
	d.TextWait = waitFor(d.Perf.QueuedTokens, d.Perf.PastMinuteTokens)
	now := w.clock.Now()
	if d.Day, err = w.statusCharts(ctx, "day", "last 24 hours", now, DayRange, DayBucket); err != nil {
		return "", page{}, err
	}
	if d.Month, err = w.statusCharts(ctx, "month", "last 30 days", now, MonthRange, MonthBucket); err != nil {
		return "", page{}, err
	}
	return "status", page{Title: "Status", Path: "/", Data: d}, nil
}

// waitFor estimates how long the queued work takes at the past minute's pace.
func waitFor(queued, pastMinute float64) time.Duration {
	if queued <= 0 || pastMinute <= 0 {
		return 0
	}
	return time.Duration(queued / pastMinute * float64(time.Minute))
}

// statusCharts reads the snapshots of a range and draws its four charts:
// queue length, items finished per minute, workers online, median wait.
func (w *Handler) statusCharts(ctx context.Context, id, title string, now time.Time, span, bucket time.Duration) ([]Chart, error) {
	read := func(ctx context.Context) ([]Snapshot, error) { return w.st.Snapshots(ctx, now.Add(-span), now, bucket) }
	var snaps []Snapshot
	var err error
	if span > DayRange {
		snaps, err = w.snaps.get(ctx, id, now, read) // the month: 43,200 rows to group
	} else {
		snaps, err = read(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("status charts, %s: %w", title, err)
	}
	charts := []Chart{
		{ID: id + "-queue", Title: "Queue length, " + title, Unit: "items"},
		{ID: id + "-finished", Title: "Items finished per minute, " + title, Unit: "items"},
		{ID: id + "-workers", Title: "Workers online, " + title, Unit: "workers"},
		{ID: id + "-wait", Title: "Median wait, " + title, Unit: "s"},
	}
	for _, s := range snaps {
		perMinute := 0.0
		if s.Minutes > 0 {
			perMinute = float64(s.ImageFinished+s.TextFinished) / float64(s.Minutes)
		}
		vals := []float64{float64(s.ImageQueue + s.TextQueue), perMinute, float64(s.ImageWorkers + s.TextWorkers), s.MedianWait.Seconds()}
		for i, v := range vals {
			charts[i].Points = append(charts[i].Points, Point{At: s.At, Value: v})
		}
	}
	return charts, nil
}
