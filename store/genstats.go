package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.GenerationStatsStore = (*Store)(nil)

// The generation_stats and generation_totals tables (migration 00016) are
// filled by FinishJob, in the transaction that stores the result, so that
// every stored result counts once (a trigger did it until migration 00031);
// Maintain prunes the rows older than statsKept.
//
// generation_totals keeps a model's total in shards (migration 00035),
// which the reads sum. Every finished job adds to its model's total, and
// the row it changes stays locked until its group commit commits: on
// PostgreSQL, with one row per model, each process's group commit waited
// there for the others' (and two that took two models' rows in opposite
// orders deadlocked). There a job adds to a shard of its model that no
// other transaction holds (FOR UPDATE SKIP LOCKED), and to a new shard of
// its session's when they all are held (or there is none yet): a finish
// does not wait for another process's transaction on a total (unless
// another session holds its own shard when it needs a new one: it took
// it when every other was held), and a model has about as many shards
// as transactions ever held it at once (one a process). SQLite's one
// writer keeps shard 0.

const (
	qInsertGenerationStat = `INSERT INTO generation_stats (kind, model, units, at) VALUES (?, ?, ?, ?)`
	qAddGenerationTotal   = `INSERT INTO generation_totals (kind, model, shard, count, units) VALUES (?, ?, 0, 1, ?)
ON CONFLICT (kind, model, shard) DO UPDATE SET count = generation_totals.count + 1, units = generation_totals.units + excluded.units`
	// qAddFreeGenerationTotal adds a result (kind ?1, model ?2, units ?3)
	// to a shard of its total no other transaction holds (PostgreSQL):
	// its session's own if there is one, else the first; it changes no
	// row when there is none. Preferring its own, a session keeps to one
	// shard, and does not take (and hold to its commit) the shards other
	// sessions are about to use.
	qAddFreeGenerationTotal = `WITH free AS (SELECT shard FROM generation_totals WHERE kind = ?1 AND model = ?2
ORDER BY shard <> pg_backend_pid(), shard LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE generation_totals t SET count = t.count + 1, units = t.units + ?3
FROM free WHERE t.kind = ?1 AND t.model = ?2 AND t.shard = free.shard`
	// qAddNewGenerationTotal adds it to a new shard, numbered for the
	// session (its server process id): two transactions open at once are
	// two sessions, so they never create the same shard (a shard past the
	// last one visible might be one another open transaction created).
	qAddNewGenerationTotal = `INSERT INTO generation_totals (kind, model, shard, count, units) VALUES (?1, ?2, pg_backend_pid(), 1, ?3)
ON CONFLICT (kind, model, shard) DO UPDATE SET count = generation_totals.count + 1, units = generation_totals.units + excluded.units`
	qRequestKindParams = `SELECT kind, params FROM requests WHERE id = ?`
	// One batch of the prune, by the (kind, at) index.
	qPruneGenerationStats = `DELETE FROM generation_stats WHERE id IN
(SELECT id FROM generation_stats WHERE kind = ? AND at < ? ORDER BY at LIMIT ?)`
)

// statsKept is how long generation_stats rows are kept: enough for the
// longest window the stats report (a month, 30 days), as the trigger kept them.
const statsKept = 31 * 24 * time.Hour

// statsPruneBatch is how many generation_stats rows one prune write removes,
// so that the writer is never held for long (a variable for the tests).
var statsPruneBatch = 5000

// countGeneration counts a stored result of kind (its request's) with
// units, made with model at at, in tx. With kind "" the request is read and
// its units computed from its stored parameters.
func (s *Store) countGeneration(ctx context.Context, tx *sql.Tx, requestID string, kind horde.RequestKind, units int64,
	model string, at time.Time) error {
	if kind == "" {
		var k, params string
		if err := s.txQueryRow(ctx, tx, qRequestKindParams, requestID).Scan(&k, &params); err != nil {
			return notFound(err, "count the result of request %s", requestID)
		}
		r := horde.Request{ID: requestID, Kind: horde.RequestKind(k)}
		var p requestParams
		if err := json.Unmarshal([]byte(params), &p); err != nil {
			return fmt.Errorf("count the result of request %s: params: %w", requestID, err)
		}
		p.setRequest(&r)
		kind, units = r.Kind, horde.GenerationUnits(r)
	}
	if _, err := s.exec(ctx, tx, qInsertGenerationStat, string(kind), model, units, nanos(at)); err != nil {
		return unavailable(fmt.Errorf("count the result of request %s: %w", requestID, err))
	}
	if err := s.addGenerationTotal(ctx, tx, kind, model, units); err != nil {
		return unavailable(fmt.Errorf("count the result of request %s in the totals: %w", requestID, err))
	}
	return nil
}

// addGenerationTotal adds one result of kind and model with units to the
// totals, in tx: on PostgreSQL to a shard no other transaction holds (see
// the top of this file), on SQLite to shard 0.
func (s *Store) addGenerationTotal(ctx context.Context, tx *sql.Tx, kind horde.RequestKind, model string, units int64) error {
	if s.eng != postgresEngine {
		_, err := s.exec(ctx, tx, qAddGenerationTotal, string(kind), model, units)
		return err
	}
	res, err := s.exec(ctx, tx, qAddFreeGenerationTotal, string(kind), model, units)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	// The model's first result, or every shard held by another transaction.
	_, err = s.exec(ctx, tx, qAddNewGenerationTotal, string(kind), model, units)
	return err
}

// PruneGenerationStats removes the generation_stats rows of results made
// before before, in batches (each its own write), and returns how many it
// removed. The totals are untouched.
func (s *Store) PruneGenerationStats(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	for _, kind := range []horde.RequestKind{horde.KindImage, horde.KindText} {
		for {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			var n int64
			err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				res, err := tx.ExecContext(ctx, qPruneGenerationStats, string(kind), nanos(before), statsPruneBatch)
				if err != nil {
					return unavailable(err)
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return removed, fmt.Errorf("prune %s stats before %s: %w", kind, before.Format(time.RFC3339), err)
			}
			removed += int(n)
			if n < int64(statsPruneBatch) {
				break
			}
		}
	}
	return removed, nil
}

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
		`SELECT model, sum(count) FROM generation_totals WHERE kind = ? GROUP BY model`, string(kind))
	if err != nil {
		return nil, nil, err
	}
	return out, toMap(rows), nil
}
