package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hordebot/hordebot/kudos"
)

// bulkRollupsMin is how many entries one applyEntries call needs for its
// rollups to be summed and written in bulk (rollupSums) rather than two
// upserts an entry: a settle of a thousand awards made two thousand
// statements, a fifth of its writer's time.
const bulkRollupsMin = 8

// rollupRowsPerStatement bounds the rows of one bulk upsert (7 arguments a
// ledger_days row: well within SQLite's and PostgreSQL's argument limits).
const rollupRowsPerStatement = 200

// dayRollup and totalRollup name a ledger_days and a ledger_totals row.
type dayRollup struct {
	kind string
	day  int64
	user int64
}

type totalRollup struct {
	kind string
	user int64
}

// rollupSums are the rollup rows of the entries one applyEntries call
// appended, summed by row: each row is written once (PostgreSQL refuses an
// upsert that changes one row twice), in key order, so that two
// transactions take the rows' locks in the same order.
type rollupSums struct {
	days   map[dayRollup]*[4]int64 // entries, net, gains, earned
	totals map[totalRollup]*[2]int64
}

func newRollupSums() *rollupSums {
	return &rollupSums{days: make(map[dayRollup]*[4]int64), totals: make(map[totalRollup]*[2]int64)}
}

// add counts an appended entry, dated at, as addRollups writes it.
func (r *rollupSums) add(e kudos.Entry, at int64) {
	k := dayRollup{string(e.Kind), floorTo(at, day), e.UserID}
	d := r.days[k]
	if d == nil {
		d = new([4]int64)
		r.days[k] = d
	}
	d[0]++
	d[1] += e.Delta
	if e.Delta <= 0 {
		return
	}
	d[2]++
	d[3] += e.Delta
	t := r.totals[totalRollup{string(e.Kind), e.UserID}]
	if t == nil {
		t = new([2]int64)
		r.totals[totalRollup{string(e.Kind), e.UserID}] = t
	}
	t[0]++
	t[1] += e.Delta
}

// writeRollupSums adds sums to the rollup tables in tx.
func (s *Store) writeRollupSums(ctx context.Context, tx *sql.Tx, sums *rollupSums) error {
	days := slices.SortedFunc(maps.Keys(sums.days), func(a, b dayRollup) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.day, b.day), cmp.Compare(a.user, b.user))
	})
	for chunk := range slices.Chunk(days, rollupRowsPerStatement) {
		args := make([]any, 0, 7*len(chunk))
		for _, k := range chunk {
			d := sums.days[k]
			args = append(args, k.kind, k.day, k.user, d[0], d[1], d[2], d[3])
		}
		q := `INSERT INTO ledger_days (kind, day, user_id, entries, net, gains, earned) VALUES ` + rowsOf(len(chunk), 7) + `
ON CONFLICT (kind, day, user_id) DO UPDATE SET entries = ledger_days.entries + excluded.entries, net = ledger_days.net + excluded.net,
gains = ledger_days.gains + excluded.gains, earned = ledger_days.earned + excluded.earned`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return unavailable(fmt.Errorf("ledger rollups, days: %w", err))
		}
	}
	totals := slices.SortedFunc(maps.Keys(sums.totals), func(a, b totalRollup) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.user, b.user))
	})
	for chunk := range slices.Chunk(totals, rollupRowsPerStatement) {
		args := make([]any, 0, 4*len(chunk))
		for _, k := range chunk {
			t := sums.totals[k]
			args = append(args, k.kind, k.user, t[0], t[1])
		}
		q := `INSERT INTO ledger_totals (kind, user_id, gains, earned) VALUES ` + rowsOf(len(chunk), 4) + `
ON CONFLICT (kind, user_id) DO UPDATE SET gains = ledger_totals.gains + excluded.gains, earned = ledger_totals.earned + excluded.earned`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return unavailable(fmt.Errorf("ledger rollups, all time: %w", err))
		}
	}
	return nil
}

// rowsOf is the VALUES list of n rows of cols placeholders: (?, ?), (?, ?).
func rowsOf(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
