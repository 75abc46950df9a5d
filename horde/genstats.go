package horde

import (
	"context"
	"fmt"
	"time"
)

// GenerationStatsStore counts stored results by kind, model and time, for
// the AI Horde's /stats routes. Every stored result counts once, in the
// transaction that stores it (JobFinish.Kind and Units); the totals outlive
// the retention purge.
type GenerationStatsStore interface {
	// GenerationTotals counts the results of kind finished at or after each
	// of since (in order), and of all time.
	GenerationTotals(ctx context.Context, kind RequestKind, since []time.Time) (periods []PeriodTotal, total PeriodTotal, err error)
	// GenerationsByModel counts the results of kind per model finished at
	// or after each of since (in order), and of all time.
	GenerationsByModel(ctx context.Context, kind RequestKind, since []time.Time) (periods []map[string]int64, total map[string]int64, err error)
}

// PeriodTotal is what was generated in a period: results, and their units
// (pixelsteps, width*height*steps, for images; requested tokens for texts).
type PeriodTotal struct {
	Count int64
	Units int64
}

// GenerationUnits is what one result of r counts for in the stats, as the
// AI Horde counts it: pixelsteps (width*height*steps) for an image, the
// requested max_length in tokens for a text; 0 when r has no parameters of
// its kind.
func GenerationUnits(r Request) int64 {
	if r.Kind == KindImage {
		if r.Image == nil {
			return 0
		}
		return int64(r.Image.Width) * int64(r.Image.Height) * int64(r.Image.Steps)
	}
	if r.Text == nil {
		return 0
	}
	return int64(r.Text.MaxLength)
}

// GenerationTotals are the AI Horde's /stats/{img,text}/totals.
type GenerationTotals struct {
	Minute, Hour, Day, Month, Total PeriodTotal
}

// ModelCounts are the AI Horde's /stats/{img,text}/models: results per model.
type ModelCounts struct {
	Day, Month, Total map[string]int64
}

// The periods of the stats, as the AI Horde compiles them.
const (
	statsMonth = 30 * 24 * time.Hour
	statsDay   = 24 * time.Hour
)

// GenerationTotals counts the results of kind in the past minute, hour,
// day and month (30 days), and of all time.
func (h *Horde) GenerationTotals(ctx context.Context, kind RequestKind) (GenerationTotals, error) {
	now := h.clock.Now()
	ps, total, err := h.store.GenerationTotals(ctx, kind, []time.Time{
		now.Add(-time.Minute), now.Add(-time.Hour), now.Add(-statsDay), now.Add(-statsMonth),
	})
	if err != nil {
		return GenerationTotals{}, fmt.Errorf("%s totals: %w", kind, err)
	}
	if len(ps) != 4 {
		return GenerationTotals{}, fmt.Errorf("%s totals: the store answered %d periods, want 4", kind, len(ps))
	}
	return GenerationTotals{Minute: ps[0], Hour: ps[1], Day: ps[2], Month: ps[3], Total: total}, nil
}

// GenerationsByModel counts the results of kind per model in the past day
// and month (30 days), and of all time. Every model of the total appears in
// each period, with 0 where it made nothing, as on the AI Horde.
func (h *Horde) GenerationsByModel(ctx context.Context, kind RequestKind) (ModelCounts, error) {
	now := h.clock.Now()
	ps, total, err := h.store.GenerationsByModel(ctx, kind, []time.Time{now.Add(-statsDay), now.Add(-statsMonth)})
	if err != nil {
		return ModelCounts{}, fmt.Errorf("%s model stats: %w", kind, err)
	}
	if len(ps) != 2 {
		return ModelCounts{}, fmt.Errorf("%s model stats: the store answered %d periods, want 2", kind, len(ps))
	}
	if total == nil {
		total = map[string]int64{}
	}
	for i := range ps {
		if ps[i] == nil {
			ps[i] = map[string]int64{}
		}
		for model := range total {
			if _, ok := ps[i][model]; !ok {
				ps[i][model] = 0
			}
		}
	}
	out := ModelCounts{Day: ps[0], Month: ps[1], Total: total}
	return out, nil
}
