package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// What the shared queue's estimates need of PostgreSQL (horde.SharedQueue:
// Waiting, QueuedRequests, SaveEstimates, Estimates, TouchWorkers). The
// estimates are one row of queue_estimates (migration 00032), its body
// encoded by encodeEstimates: a process reads it whole when it is newer
// than the one it has, at most every couple of seconds.

const (
	// qWaiting lists the queue's entries in priority order with the
	// waiting items of each one's request.
	qWaiting = `SELECT q.request_id, q.kind, q.model,
	(SELECT count(*) FROM items i WHERE i.request_id = q.request_id AND i.state = 'waiting')
FROM queue_entries q ORDER BY q.score DESC, q.created_at, q.request_id LIMIT ?`
	qSaveEstimates = `INSERT INTO queue_estimates (name, computed_at, body) VALUES ('queue', ?, ?)
ON CONFLICT (name) DO UPDATE SET computed_at = excluded.computed_at, body = excluded.body
WHERE queue_estimates.computed_at < excluded.computed_at`
	qEstimates = `SELECT computed_at, body FROM queue_estimates WHERE name = 'queue' AND computed_at > ?`
	// qTouchWorkers moves each worker's last pop forward and adds the time
	// since the stored one to its uptime when it was online in between
	// (?3: horde.StaleAfter in nanoseconds), rounded to the second.
	qTouchWorkers = `UPDATE workers w SET
	uptime_seconds = w.uptime_seconds + CASE WHEN w.last_pop > 0 AND t.at - w.last_pop < ?3
		THEN (t.at - w.last_pop + 500000000) / 1000000000 ELSE 0 END,
	last_pop = t.at
FROM unnest(?1::text[], ?2::bigint[]) AS t(id, at)
WHERE w.id = t.id AND w.last_pop < t.at
RETURNING w.id, w.uptime_seconds`
	// qUptimes reads the uptime of workers a touch did not move.
	qUptimes = `SELECT id, uptime_seconds FROM workers WHERE id = ANY(?::text[])`

	// queuedRequestsBatch bounds the ids of one read of QueuedRequests.
	queuedRequestsBatch = 1000
)

// Waiting implements horde.SharedQueue.
func (q pgQueue) Waiting(ctx context.Context, limit int) ([]horde.QueueEntry, error) {
	return queryRows(ctx, q.s.r, "list the queue", func(row scanner) (horde.QueueEntry, error) {
		var e horde.QueueEntry
		var kind string
		err := row.Scan(&e.RequestID, &kind, &e.Model, &e.Waiting)
		e.Kind = horde.RequestKind(kind)
		return e, err
	}, qWaiting, limit)
}

// QueuedRequests implements horde.SharedQueue.
func (q pgQueue) QueuedRequests(ctx context.Context, ids []string) ([]horde.Request, error) {
	var out []horde.Request
	for len(ids) > 0 {
		n := min(len(ids), queuedRequestsBatch)
		reqs, err := queryRows(ctx, q.s.r, "read queued requests", func(row scanner) (horde.Request, error) {
			return scanRequest(row)
		}, `SELECT `+requestColumns+` FROM requests WHERE id = ANY(?::text[])`, ids[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, reqs...)
		ids = ids[n:]
	}
	return out, nil
}

// SaveEstimates implements horde.SharedQueue.
func (q pgQueue) SaveEstimates(ctx context.Context, e horde.QueueEstimates) error {
	body, err := encodeEstimates(e)
	if err != nil {
		return fmt.Errorf("save queue estimates: %w", err)
	}
	return q.s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, qSaveEstimates, nanos(e.At), body); err != nil {
			return unavailable(fmt.Errorf("save queue estimates: %w", err))
		}
		return nil
	})
}

// Estimates implements horde.SharedQueue.
func (q pgQueue) Estimates(ctx context.Context, since time.Time) (horde.QueueEstimates, bool, error) {
	var at int64
	var body []byte
	err := q.s.r.QueryRowContext(ctx, qEstimates, nanos(since)).Scan(&at, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return horde.QueueEstimates{}, false, nil
	}
	if err != nil {
		return horde.QueueEstimates{}, false, unavailable(fmt.Errorf("read queue estimates: %w", err))
	}
	e, err := decodeEstimates(body)
	if err != nil {
		return horde.QueueEstimates{}, false, fmt.Errorf("read queue estimates: %w", err)
	}
	e.At = fromNanos(at)
	return e, true, nil
}

// TouchWorkers implements horde.SharedQueue.
func (q pgQueue) TouchWorkers(ctx context.Context, pops map[string]time.Time) (map[string]int64, error) {
	if len(pops) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(pops))
	ats := make([]int64, 0, len(pops))
	for id, at := range pops {
		ids, ats = append(ids, id), append(ats, nanos(at))
	}
	out := make(map[string]int64, len(pops))
	scan := func(rows *sql.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var id string
			var up int64
			if err := rows.Scan(&id, &up); err != nil {
				return err
			}
			out[id] = up
		}
		return rows.Err()
	}
	err := q.s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		clear(out)
		rows, err := tx.QueryContext(ctx, qTouchWorkers, ids, ats, int64(horde.StaleAfter))
		if err != nil {
			return unavailable(fmt.Errorf("record workers' pops: %w", err))
		}
		if err := scan(rows); err != nil {
			return unavailable(fmt.Errorf("record workers' pops: %w", err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == len(pops) {
		return out, nil
	}
	var rest []string // another process recorded a later pop already
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			rest = append(rest, id)
		}
	}
	rows, err := q.s.r.QueryContext(ctx, qUptimes, rest)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read workers' uptime: %w", err))
	}
	if err := scan(rows); err != nil {
		return nil, unavailable(fmt.Errorf("read workers' uptime: %w", err))
	}
	return out, nil
}

// estimatesHead is the part of the encoded estimates that is not per
// request.
type estimatesHead struct {
	Totals     []queuedWork `json:"totals,omitempty"`
	Buckets    []queuedWork `json:"buckets,omitempty"`
	PastMinute []queuedWork `json:"past_minute,omitempty"`
	Forms      int          `json:"forms,omitempty"` // waiting alchemy forms
}

type queuedWork struct {
	Kind  string  `json:"kind"`
	Model string  `json:"model,omitempty"`
	Items int     `json:"items"`
	Work  float64 `json:"work"`
}

func toQueuedWork(ws []horde.QueuedWork) []queuedWork {
	out := make([]queuedWork, 0, len(ws))
	for _, w := range ws {
		out = append(out, queuedWork{Kind: string(w.Kind), Model: w.Model, Items: w.Items, Work: w.Work})
	}
	return out
}

func fromQueuedWork(ws []queuedWork) []horde.QueuedWork {
	out := make([]horde.QueuedWork, 0, len(ws))
	for _, w := range ws {
		out = append(out, horde.QueuedWork{Kind: horde.RequestKind(w.Kind), Model: w.Model, Items: w.Items, Work: w.Work})
	}
	return out
}

// estimatesVersion starts an encoded body.
const estimatesVersion = 1

// encodeEstimates encodes e (but At, stored beside it): a version byte,
// the length of a JSON head and the head (the queue counts; a body stored
// before the head had forms reads as none waiting), then the
// number of requests and each one's id (its length, its bytes), position
// and wait as varints: about 40 bytes a waiting request.
func encodeEstimates(e horde.QueueEstimates) ([]byte, error) {
	head, err := json.Marshal(estimatesHead{
		Totals: toQueuedWork(e.Totals), Buckets: toQueuedWork(e.Buckets), PastMinute: toQueuedWork(e.PastMinute),
		Forms: e.Forms,
	})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(head)+len(e.Requests)*44)
	b = append(b, estimatesVersion)
	b = binary.AppendUvarint(b, uint64(len(head)))
	b = append(b, head...)
	b = binary.AppendUvarint(b, uint64(len(e.Requests)))
	for id, est := range e.Requests {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
		b = binary.AppendVarint(b, int64(est.Position))
		b = binary.AppendVarint(b, int64(est.Wait))
	}
	return b, nil
}

// errBadEstimates is a body encodeEstimates did not write.
var errBadEstimates = errors.New("malformed queue estimates")

// decodeEstimates decodes a body of encodeEstimates.
func decodeEstimates(b []byte) (horde.QueueEstimates, error) {
	var e horde.QueueEstimates
	if len(b) == 0 || b[0] != estimatesVersion {
		return e, errBadEstimates
	}
	r := bytes.NewReader(b[1:])
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(r.Len()) {
		return e, errBadEstimates
	}
	head := make([]byte, n)
	if _, err := r.Read(head); err != nil {
		return e, errBadEstimates
	}
	var h estimatesHead
	if err := json.Unmarshal(head, &h); err != nil {
		return e, fmt.Errorf("%w: %w", errBadEstimates, err)
	}
	e.Totals, e.Buckets, e.PastMinute = fromQueuedWork(h.Totals), fromQueuedWork(h.Buckets), fromQueuedWork(h.PastMinute)
	if h.Forms < 0 {
		return e, errBadEstimates
	}
	e.Forms = h.Forms
	count, err := binary.ReadUvarint(r)
	if err != nil || count > uint64(r.Len()) {
		return e, errBadEstimates
	}
	e.Requests = make(map[string]horde.QueueEstimate, count)
	for range count {
		l, err := binary.ReadUvarint(r)
		if err != nil || l > uint64(r.Len()) {
			return e, errBadEstimates
		}
		id := make([]byte, l)
		if _, err := r.Read(id); err != nil && l > 0 {
			return e, errBadEstimates
		}
		pos, err1 := binary.ReadVarint(r)
		wait, err2 := binary.ReadVarint(r)
		if err1 != nil || err2 != nil || pos < 0 || pos > math.MaxInt32 || wait < -1 || wait > math.MaxInt32 {
			return e, errBadEstimates
		}
		e.Requests[string(id)] = horde.QueueEstimate{Position: int(pos), Wait: int(wait)}
	}
	if r.Len() != 0 {
		return e, errBadEstimates
	}
	return e, nil
}
