package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.GenerationStatsStore = (*Store)(nil)

// The generation_stats and generation_totals tables are filled by a trigger
// on generations (migration 00016): every stored result counts once, in
// the transaction that stores it.

// GenerationTotals counts the results of kind since each time, and of all time.
func (s *Store) GenerationTotals(ctx context.Context, kind horde.RequestKind, since []time.Time) ([]horde.PeriodTotal, horde.PeriodTotal, error) {
	out := make([]horde.PeriodTotal, len(since))
	for i, t := range since {
		err := s.readRow(ctx, `SELECT count(*), coalesce(sum(units), 0) FROM generation_stats WHERE kind = ? AND at >= ?`,
			string(kind), nanos(t)).Scan(&out[i].Count, &out[i].Units)
		if err != nil {
			return nil, horde.PeriodTotal{}, fmt.Errorf("%s results since %s: %w", kind, t.Format(time.RFC3339), err)
		}
	}
	var total horde.PeriodTotal
	err := s.readRow(ctx, `SELECT coalesce(sum(count), 0), coalesce(sum(units), 0) FROM generation_totals WHERE kind = ?`,
		string(kind)).Scan(&total.Count, &total.Units)
	if err != nil {
		return nil, horde.PeriodTotal{}, fmt.Errorf("%s results of all time: %w", kind, err)
	}
	return out, total, nil
}

// GenerationsByModel counts the results of kind per model since each time,
// and of all time.
func (s *Store) GenerationsByModel(ctx context.Context, kind horde.RequestKind, since []time.Time) ([]map[string]int64, map[string]int64, error) {
	type row struct {
		model string
		n     int64
	}
	scan := func(r scanner) (row, error) {
		var v row
		return v, r.Scan(&v.model, &v.n)
	}
	toMap := func(rows []row) map[string]int64 {
		m := make(map[string]int64, len(rows))
		for _, r := range rows {
			m[r.model] = r.n
		}
		return m
	}
	out := make([]map[string]int64, len(since))
	for i, t := range since {
		rows, err := queryRows(ctx, s.r, fmt.Sprintf("%s results per model since %s", kind, t.Format(time.RFC3339)), scan,
			`SELECT model, count(*) FROM generation_stats WHERE kind = ? AND at >= ? GROUP BY model`, string(kind), nanos(t))
		if err != nil {
			return nil, nil, err
		}
		out[i] = toMap(rows)
	}
	rows, err := queryRows(ctx, s.r, fmt.Sprintf("%s results per model", kind), scan,
		`SELECT model, count FROM generation_totals WHERE kind = ?`, string(kind))
	if err != nil {
		return nil, nil, err
	}
	return out, toMap(rows), nil
}
