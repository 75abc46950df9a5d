package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hordebot/hordebot/horde/web"
)

// The status snapshots of the web pages (horde/web): written once a minute,
// read back grouped into buckets for the charts. Portable SQL: plain ?
// placeholders, integer division, no engine-specific functions.

var _ web.Store = (*Store)(nil)

// hourNanos is the length of an hour in nanoseconds, the unit of status_hours.
const hourNanos = int64(time.Hour)

// qAddStatusHour adds a minute to its hour's sums (00025); its arguments
// are the hour and the minute's values, as qInsertSnapshot's.
const qAddStatusHour = `INSERT INTO status_hours
(hour, minutes, image_queue, text_queue, image_workers, text_workers, image_finished, text_finished, median_wait_ms)
VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hour) DO UPDATE SET minutes = status_hours.minutes + 1,
image_queue = status_hours.image_queue + excluded.image_queue, text_queue = status_hours.text_queue + excluded.text_queue,
image_workers = status_hours.image_workers + excluded.image_workers, text_workers = status_hours.text_workers + excluded.text_workers,
image_finished = status_hours.image_finished + excluded.image_finished, text_finished = status_hours.text_finished + excluded.text_finished,
median_wait_ms = CASE WHEN excluded.median_wait_ms > status_hours.median_wait_ms THEN excluded.median_wait_ms ELSE status_hours.median_wait_ms END`

// RecordSnapshot writes the minute s.At, adds it to its hour's sums and adds
// a minute of uptime to each worker in online, in one transaction. A minute
// written already changes nothing and returns false.
func (s *Store) RecordSnapshot(ctx context.Context, snap web.Snapshot, online []string) (bool, error) {
	at := nanos(snap.At)
	hour := floorTo(at, hourNanos)
	var wrote bool
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		wrote = false
		res, err := tx.ExecContext(ctx, `INSERT INTO status_snapshots
(at, image_queue, text_queue, image_workers, text_workers, image_finished, text_finished, median_wait_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (at) DO NOTHING`,
			at, snap.ImageQueue, snap.TextQueue, snap.ImageWorkers, snap.TextWorkers,
			snap.ImageFinished, snap.TextFinished, snap.MedianWait.Milliseconds())
		if err != nil {
			return unavailable(fmt.Errorf("record status snapshot: %w", err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record status snapshot: %w", err)
		}
		if n == 0 {
			return nil // this minute is recorded: its uptime is counted
		}
		if _, err := tx.ExecContext(ctx, qAddStatusHour, hour, snap.ImageQueue, snap.TextQueue, snap.ImageWorkers, snap.TextWorkers,
			snap.ImageFinished, snap.TextFinished, snap.MedianWait.Milliseconds()); err != nil {
			return unavailable(fmt.Errorf("record status hour: %w", err))
		}
		for _, id := range online {
			if _, err := tx.ExecContext(ctx, `INSERT INTO worker_uptime (worker_id, hour, minutes) VALUES (?, ?, 1)
ON CONFLICT (worker_id, hour) DO UPDATE SET minutes = worker_uptime.minutes + 1`, id, hour); err != nil {
				return unavailable(fmt.Errorf("record uptime of worker %s: %w", id, err))
			}
		}
		wrote = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return wrote, nil
}

// qFinishedBetween reads the requests that finished in a time range, by
// the requests_finished index.
const qFinishedBetween = `SELECT kind, state, n, created_at, finished_at FROM requests
WHERE finished_at >= ? AND finished_at < ? AND ` + finishedState

// FinishedBetween sums the requests that finished in [from, to): their
// items by kind and the waits of those that ended done.
func (s *Store) FinishedBetween(ctx context.Context, from, to time.Time) (web.Finished, error) {
	var f web.Finished
	rows, err := s.r.QueryContext(ctx, qFinishedBetween, nanos(from), nanos(to))
	if err != nil {
		return f, fmt.Errorf("requests finished since %s: %w", from.Format(time.RFC3339), err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n, created, finished int64
		if err := rows.Scan(&kind, &state, &n, &created, &finished); err != nil {
			return f, fmt.Errorf("requests finished since %s: %w", from.Format(time.RFC3339), err)
		}
		if state != "done" {
			continue
		}
		if kind == "image" {
			f.ImageItems += n
		} else {
			f.TextItems += n
		}
		f.Waits = append(f.Waits, time.Duration(finished-created))
	}
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("requests finished since %s: %w", from.Format(time.RFC3339), err)
	}
	return f, nil
}

// Snapshots returns the snapshots in [from, to) grouped into buckets of the
// given length, oldest first: the queue and workers averaged (rounded
// down), the items finished summed, the largest median wait. Buckets of
// whole hours read the hours' sums (status_hours) and only the minutes of
// a partial hour at either end: the month's chart reads 720 rows, not
// 43,200.
func (s *Store) Snapshots(ctx context.Context, from, to time.Time, bucket time.Duration) ([]web.Snapshot, error) {
	if bucket < time.Minute {
		bucket = time.Minute
	}
	b := int64(bucket)
	f, t := nanos(from), nanos(to)
	const minutes = `SELECT at / ? AS bucket, 1 AS n, image_queue, text_queue, image_workers, text_workers,
image_finished, text_finished, median_wait_ms FROM status_snapshots WHERE at >= ? AND at < ?`
	parts, args := []string{minutes}, []any{b, f, t}
	if first, last := ceilTo(f, hourNanos), floorTo(t, hourNanos); b%hourNanos == 0 && first < last {
		parts = []string{minutes, `SELECT hour / ?, minutes, image_queue, text_queue, image_workers, text_workers,
image_finished, text_finished, median_wait_ms FROM status_hours WHERE hour >= ? AND hour < ?`, minutes}
		args = []any{b, f, first, b, first, last, b, last, t}
	}
	return queryRows(ctx, s.r, "status snapshots", func(row scanner) (web.Snapshot, error) {
		var sn web.Snapshot
		var start, n, iq, tq, iw, tw, wait int64
		err := row.Scan(&start, &n, &iq, &tq, &iw, &tw, &sn.ImageFinished, &sn.TextFinished, &wait)
		sn.Minutes = n
		if n > 0 {
			sn.ImageQueue, sn.TextQueue, sn.ImageWorkers, sn.TextWorkers = iq/n, tq/n, iw/n, tw/n
		}
		sn.At = fromNanos(start * b)
		sn.MedianWait = time.Duration(wait) * time.Millisecond
		return sn, err
	}, `SELECT bucket, sum(n), sum(image_queue), sum(text_queue), sum(image_workers), sum(text_workers),
sum(image_finished), sum(text_finished), max(median_wait_ms)
FROM (`+strings.Join(parts, "\nUNION ALL\n")+`) AS x GROUP BY bucket ORDER BY bucket`, args...)
}

// PruneSnapshots deletes snapshots and uptime hours older than before (and
// the hours' sums with them: an hour cut in two is summed anew from its
// minutes left). It returns the snapshots and uptime rows deleted.
func (s *Store) PruneSnapshots(ctx context.Context, before time.Time) (int64, error) {
	cut := nanos(before)
	var total int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, q := range []string{`DELETE FROM status_snapshots WHERE at < ?`, `DELETE FROM worker_uptime WHERE hour < ?`} {
			res, err := tx.ExecContext(ctx, q, cut)
			if err != nil {
				return unavailable(fmt.Errorf("prune status snapshots: %w", err))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("prune status snapshots: %w", err)
			}
			total += n
		}
		h := floorTo(cut, hourNanos)
		if _, err := tx.ExecContext(ctx, `DELETE FROM status_hours WHERE hour <= ?`, h); err != nil {
			return unavailable(fmt.Errorf("prune status hours: %w", err))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_hours
(hour, minutes, image_queue, text_queue, image_workers, text_workers, image_finished, text_finished, median_wait_ms)
SELECT ?, count(*), sum(image_queue), sum(text_queue), sum(image_workers), sum(text_workers),
sum(image_finished), sum(text_finished), max(median_wait_ms)
FROM status_snapshots WHERE at >= ? AND at < ? HAVING count(*) > 0`, h, h, h+hourNanos); err != nil {
			return unavailable(fmt.Errorf("prune status hours: %w", err))
		}
		return nil
	})
	return total, err
}

// WorkerUptime returns a worker's online minutes per hour in [from, to).
func (s *Store) WorkerUptime(ctx context.Context, workerID string, from, to time.Time) ([]web.UptimeHour, error) {
	return queryRows(ctx, s.r, "uptime of worker "+workerID, func(row scanner) (web.UptimeHour, error) {
		var u web.UptimeHour
		var h int64
		err := row.Scan(&h, &u.Minutes)
		u.Hour = fromNanos(h)
		return u, err
	}, `SELECT hour, minutes FROM worker_uptime WHERE worker_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
		workerID, nanos(from), nanos(to))
}
