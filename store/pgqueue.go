package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// The shared queue on PostgreSQL (horde.SharedQueue): queue_entries holds
// one row per (request, model bucket) while the request has waiting items
// (migration 00028), keyed by horde.PriorityScore. A pop reads candidates
// bucket by bucket in index order, locks each candidate's request row with
// FOR UPDATE SKIP LOCKED (one another process is claiming is passed over),
// reads its waiting items, lets the horde match it (horde's match.go) and
// starts the chosen jobs in the same transaction.
//
// Every write that changes a request's items (claim, finish, fail, end)
// locks the request row first on PostgreSQL, so that they are serialised
// per request across processes and always lock in one order (the request,
// then its items and jobs). On SQLite there is one process and one writer:
// the queue is horde's memory, and queue_entries does not exist.

const (
	// claimBatch is how many entries one candidate read returns; their
	// requests are locked together, and the others are passed over by
	// other processes' pops until this one's transaction ends.
	claimBatch = 32

	// The candidates of one pop, after the keyset cursor (score, created_at,
	// request_id), read bucket by bucket so that each uses the index in order;
	// "score <= cursor" is redundant but lets the index scan start at the
	// cursor instead of walking every entry ahead of it again.
	qClaimByModel = `SELECT c.request_id, c.score, c.created_at FROM unnest(?::text[]) AS m(model)
CROSS JOIN LATERAL (
	SELECT q.request_id, q.score, q.created_at FROM queue_entries q
	WHERE q.kind = ? AND q.model = m.model
	  AND q.score <= ? AND (q.score < ? OR (q.score = ? AND (q.created_at > ? OR (q.created_at = ? AND q.request_id > ?))))
	ORDER BY q.score DESC, q.created_at, q.request_id LIMIT ?) c
ORDER BY c.score DESC, c.created_at, c.request_id LIMIT ?`
	qClaimByUser = `SELECT c.request_id, c.score, c.created_at FROM unnest(?::bigint[]) AS u(user_id)
CROSS JOIN LATERAL (
	SELECT q.request_id, q.score, q.created_at FROM queue_entries q
	WHERE q.kind = ? AND q.user_id = u.user_id
	  AND q.score <= ? AND (q.score < ? OR (q.score = ? AND (q.created_at > ? OR (q.created_at = ? AND q.request_id > ?))))
	ORDER BY q.score DESC, q.created_at, q.request_id LIMIT ?) c
ORDER BY c.score DESC, c.created_at, c.request_id LIMIT ?`

	qLockOpenRequest = `SELECT id FROM requests WHERE id = ? AND state IN ` + openStates + ` FOR UPDATE SKIP LOCKED`
	// qLockJobRequest locks the request of a job, found and locked in one
	// round trip.
	qLockJobRequest = `SELECT r.id FROM jobs j JOIN requests r ON r.id = j.request_id WHERE j.id = ? FOR UPDATE OF r`
	// qDequeueIfTaken takes a request out of the queue once none of its
	// items waits, in one round trip.
	qDequeueIfTaken = `DELETE FROM queue_entries WHERE request_id = ?1
  AND NOT EXISTS (SELECT 1 FROM items WHERE request_id = ?1 AND state = 'waiting')`
	qDequeue = `DELETE FROM queue_entries WHERE request_id = ?`
	qEnqueue = `INSERT INTO queue_entries (request_id, model, kind, user_id, score, created_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	// qDoneIfLast ends a request whose every item is done: the request row
	// is locked, so two last items finishing on two processes see each other.
	qDoneIfLast = `UPDATE requests SET state = 'done', finished_at = ?
WHERE id = ? AND state = 'processing' AND NOT EXISTS (SELECT 1 FROM items WHERE request_id = ? AND state != 'done')`

	qOverdue = `SELECT ` + jobColumns + ` FROM jobs j
WHERE j.state = 'processing' AND j.deadline > 0 AND j.deadline <= ? ORDER BY j.deadline, j.id LIMIT ?`
	// qExpirable are waiting requests nobody popped since cutoff (created,
	// started or failed before it, no job processing); qStillExpirable
	// checks one again once its row is locked, in a statement of its own,
	// so that a pop committed meanwhile is seen.
	qExpirable = `SELECT r.id FROM requests r
WHERE r.state IN ` + openStates + ` AND r.created_at <= ?1
  AND EXISTS (SELECT 1 FROM queue_entries q WHERE q.request_id = r.id)
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.request_id = r.id AND (j.state = 'processing' OR j.started_at > ?1 OR j.finished_at > ?1))
ORDER BY r.created_at, r.id LIMIT ?2`
	qStillExpirable = `SELECT NOT EXISTS (SELECT 1 FROM jobs j WHERE j.request_id = ?1
  AND (j.state = 'processing' OR j.started_at > ?2 OR j.finished_at > ?2))`
	qHeld = `SELECT count(*), COALESCE(sum((r.kudos + r.n - 1) / r.n), 0)
FROM requests r JOIN items i ON i.request_id = r.id
WHERE r.user_id = ? AND r.state IN ` + openStates + ` AND i.state IN ('waiting', 'processing')`
)

// pgQueue is the shared queue of a Store on PostgreSQL.
type pgQueue struct{ s *Store }

var _ horde.SharedQueue = pgQueue{}

// SharedQueue is the queue several processes share on PostgreSQL, for
// horde.Config.Queue; nil on SQLite, whose queue is the one process's memory.
func (s *Store) SharedQueue() horde.SharedQueue {
	if s.eng != postgresEngine {
		return nil
	}
	return pgQueue{s: s}
}

// claimCursor is where a candidate read resumes.
type claimCursor struct {
	score, created int64
	id             string
}

// Claim implements horde.SharedQueue.
func (q pgQueue) Claim(ctx context.Context, tiers ...horde.ClaimTier) ([]horde.Job, error) {
	if !slices.ContainsFunc(tiers, func(t horde.ClaimTier) bool { return len(t.Query.Users) > 0 || len(t.Query.Models) > 0 }) {
		return nil, nil
	}
	var started []horde.Job
	err := q.s.writeAlone(ctx, func(ctx context.Context, tx *sql.Tx) error {
		started = nil
		for _, t := range tiers {
			jobs, err := q.claimTier(ctx, tx, t)
			if err != nil || len(jobs) > 0 {
				started = jobs
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return started, nil
}

// claimTier is one tier's walk of Claim, in tx: the jobs started, none
// when its Choose took nothing.
func (q pgQueue) claimTier(ctx context.Context, tx *sql.Tx, t horde.ClaimTier) ([]horde.Job, error) {
	cq := t.Query
	limit := t.Budget()
	if limit <= 0 || (len(cq.Users) == 0 && len(cq.Models) == 0) {
		return nil, nil
	}
	seen := make(map[string]bool)
	cur := claimCursor{score: 1<<63 - 1}
	chunk := 1
	for len(seen) < limit {
		ids, next, err := q.candidates(ctx, tx, cq, cur)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		cur = next
		// Lock and read a few candidates at a time, more while they are
		// passed over: the first usually matches, and one round trip per
		// request would make a long walk slow.
		for len(ids) > 0 && len(seen) < limit {
			n := min(chunk, len(ids))
			jobs, err := q.claimBatchOf(ctx, tx, ids[:n], seen, limit, t.Choose)
			if err != nil || len(jobs) > 0 {
				return jobs, err
			}
			ids = ids[n:]
			chunk = min(chunk*4, claimBatch)
		}
	}
	return nil, nil
}

// candidates reads the next entries after cur, deduplicated by request in
// the order read, and the cursor after them.
func (q pgQueue) candidates(ctx context.Context, tx *sql.Tx, cq horde.ClaimQuery, cur claimCursor) ([]string, claimCursor, error) {
	query, set := qClaimByModel, any(cq.Models)
	if len(cq.Users) > 0 {
		query, set = qClaimByUser, any(cq.Users)
	}
	rows, err := tx.QueryContext(ctx, query, set, string(cq.Kind), cur.score, cur.score, cur.score, cur.created, cur.created, cur.id,
		claimBatch, claimBatch)
	if err != nil {
		return nil, cur, unavailable(fmt.Errorf("read the queue: %w", err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		if err := rows.Scan(&cur.id, &cur.score, &cur.created); err != nil {
			return nil, cur, fmt.Errorf("read the queue: %w", err)
		}
		if !slices.Contains(ids, cur.id) {
			ids = append(ids, cur.id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, cur, unavailable(fmt.Errorf("read the queue: %w", err))
	}
	return ids, cur, nil
}

// claimBatchOf locks the requests of ids that no other process holds (one
// statement that never waits), reads them and their waiting items, and
// offers them to choose in the order of ids, skipping those in seen and
// adding those offered. It starts the jobs of the first request choose
// takes, and stops there or once seen holds limit requests.
func (q pgQueue) claimBatchOf(ctx context.Context, tx *sql.Tx, ids []string, seen map[string]bool, limit int,
	choose func(horde.Request, []int) []horde.Job) ([]horde.Job, error) {
	s := q.s
	var fresh []string
	for _, id := range ids {
		if !seen[id] {
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	reqs := make(map[string]horde.Request, len(fresh))
	rows, err := tx.QueryContext(ctx, `SELECT `+requestColumns+` FROM requests
WHERE id = ANY(?::text[]) AND state IN `+openStates+` FOR UPDATE SKIP LOCKED`, fresh)
	if err != nil {
		return nil, unavailable(fmt.Errorf("lock requests of the queue: %w", err))
	}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("read requests of the queue: %w", err)
		}
		reqs[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("lock requests of the queue: %w", err))
	}
	waiting := make(map[string][]int, len(reqs))
	if len(reqs) > 0 {
		locked := make([]string, 0, len(reqs))
		for id := range reqs {
			locked = append(locked, id)
		}
		rows, err := tx.QueryContext(ctx, `SELECT request_id, idx FROM items
WHERE request_id = ANY(?::text[]) AND state = 'waiting' ORDER BY request_id, idx`, locked)
		if err != nil {
			return nil, unavailable(fmt.Errorf("read items of the queue: %w", err))
		}
		for rows.Next() {
			var id string
			var i int
			if err := rows.Scan(&id, &i); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read items of the queue: %w", err)
			}
			waiting[id] = append(waiting[id], i)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, unavailable(fmt.Errorf("read items of the queue: %w", err))
		}
	}
	for _, id := range fresh {
		req, ok := reqs[id]
		if !ok {
			continue // being claimed or finished elsewhere, or finished: not seen, it may come back
		}
		seen[id] = true
		items := waiting[id]
		if len(items) == 0 { // a stale entry: its last item was taken
			if err := s.dequeue(ctx, tx, id); err != nil {
				return nil, err
			}
			continue
		}
		jobs := choose(req, items)
		for _, j := range jobs {
			if j.RequestID != id || !slices.Contains(items, j.Item) {
				return nil, fmt.Errorf("claim of request %s: job %s is not one of its waiting items", id, j.ID)
			}
			if err := s.startJobTx(ctx, tx, j); err != nil {
				return nil, err
			}
		}
		if len(jobs) > 0 {
			return jobs, s.dequeueIfTaken(ctx, tx, id)
		}
		if len(seen) >= limit {
			return nil, nil
		}
	}
	return nil, nil
}

// enqueue puts request r (with waiting items) into the shared queue's
// buckets; on SQLite it does nothing.
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, r horde.Request) error {
	if s.eng != postgresEngine {
		return nil
	}
	score := horde.PriorityScore(r.Priority, r.CreatedAt)
	models := r.Models
	if len(models) == 0 {
		models = []string{""}
	}
	for _, m := range models {
		if _, err := tx.ExecContext(ctx, qEnqueue, r.ID, m, string(r.Kind), r.UserID, score, nanos(r.CreatedAt)); err != nil {
			return unavailable(fmt.Errorf("queue request %s: %w", r.ID, err))
		}
	}
	return nil
}

// enqueueStored is enqueue of a stored request, read in tx.
func (s *Store) enqueueStored(ctx context.Context, tx *sql.Tx, id string) error {
	if s.eng != postgresEngine {
		return nil
	}
	r, err := scanRequest(tx.QueryRowContext(ctx, qSelectRequest, id))
	if err != nil {
		return notFound(err, "queue request %s", id)
	}
	return s.enqueue(ctx, tx, r)
}

// dequeueIfTaken takes a request out of the shared queue once no item of
// it waits; on SQLite it does nothing.
func (s *Store) dequeueIfTaken(ctx context.Context, tx *sql.Tx, id string) error {
	if s.eng != postgresEngine {
		return nil
	}
	if _, err := tx.ExecContext(ctx, qDequeueIfTaken, id); err != nil {
		return unavailable(fmt.Errorf("dequeue request %s: %w", id, err))
	}
	return nil
}

// dequeue takes a request out of the shared queue; on SQLite it does nothing.
func (s *Store) dequeue(ctx context.Context, tx *sql.Tx, id string) error {
	if s.eng != postgresEngine {
		return nil
	}
	if _, err := tx.ExecContext(ctx, qDequeue, id); err != nil {
		return unavailable(fmt.Errorf("dequeue request %s: %w", id, err))
	}
	return nil
}

// lockJobRequest locks the request of a job before the job is changed, on
// PostgreSQL (see the top of this file); on SQLite it does nothing. An
// unknown job locks nothing: the write that follows says so.
func (s *Store) lockJobRequest(ctx context.Context, tx *sql.Tx, jobID string) error {
	if s.eng != postgresEngine {
		return nil
	}
	var id string
	if err := tx.QueryRowContext(ctx, qLockJobRequest, jobID).Scan(&id); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return unavailable(fmt.Errorf("lock request of job %s: %w", jobID, err))
	}
	return nil
}

// doneIfLast ends a request as done when every item of it is, on
// PostgreSQL, where another process may have finished the other items, and
// reports whether it did; on SQLite the one scheduler knows and says so in
// JobFinish.RequestState.
func (s *Store) doneIfLast(ctx context.Context, tx *sql.Tx, id string, at time.Time) (bool, error) {
	if s.eng != postgresEngine {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, qDoneIfLast, nanos(at), id, id)
	if err != nil {
		return false, unavailable(fmt.Errorf("end request %s: %w", id, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("end request %s: %w", id, err)
	}
	return n > 0, nil
}

// Overdue implements horde.SharedQueue.
func (q pgQueue) Overdue(ctx context.Context, now time.Time, limit int) ([]horde.Job, error) {
	return q.jobs(ctx, "overdue jobs", qOverdue, nanos(now), limit)
}

// WorkerJobs implements horde.SharedQueue.
func (q pgQueue) WorkerJobs(ctx context.Context, workerID string) ([]horde.Job, error) {
	return q.jobs(ctx, "jobs of worker "+workerID, `SELECT `+jobColumns+` FROM jobs j
WHERE j.state = 'processing' AND j.worker_id = ? ORDER BY j.started_at, j.id`, workerID)
}

// jobs reads the jobs query selects (jobColumns).
func (q pgQueue) jobs(ctx context.Context, what, query string, args ...any) ([]horde.Job, error) {
	rows, err := q.s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read %s: %w", what, err))
	}
	defer rows.Close()
	var out []horde.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("read %s: %w", what, err))
	}
	return out, nil
}

// qAhead counts (up to a limit) the requests ahead of one in its buckets.
const qAhead = `SELECT count(*) FROM (SELECT DISTINCT o.request_id
FROM queue_entries me JOIN queue_entries o ON o.kind = me.kind AND o.model = me.model
WHERE me.request_id = ?1 AND (o.score > me.score OR (o.score = me.score
  AND (o.created_at < me.created_at OR (o.created_at = me.created_at AND o.request_id < me.request_id))))
LIMIT ?2) AS ahead`

// Position implements horde.SharedQueue.
func (q pgQueue) Position(ctx context.Context, requestID string, limit int) (int, error) {
	var ahead int // none for a request not queued: it has no entries to be behind of
	if err := q.s.r.QueryRowContext(ctx, qAhead, requestID, limit).Scan(&ahead); err != nil {
		return 0, unavailable(fmt.Errorf("queue position of request %s: %w", requestID, err))
	}
	return ahead, nil
}

// OtherModels implements horde.SharedQueue.
func (q pgQueue) OtherModels(ctx context.Context, kind horde.RequestKind, models []string, limit int) (int, error) {
	var n int
	err := q.s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM queue_entries
WHERE kind = ? AND model != '' AND NOT (model = ANY(?::text[])) LIMIT ?) AS other`, string(kind), models, limit).Scan(&n)
	if err != nil {
		return 0, unavailable(fmt.Errorf("count the queue's other models: %w", err))
	}
	return n, nil
}

// Expire implements horde.SharedQueue.
func (q pgQueue) Expire(ctx context.Context, cutoff, at time.Time, limit int) ([]string, error) {
	s := q.s
	var ended, uploaded []string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ended, uploaded = nil, nil
		rows, err := tx.QueryContext(ctx, qExpirable, nanos(cutoff), limit)
		if err != nil {
			return unavailable(fmt.Errorf("read expirable requests: %w", err))
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("read expirable requests: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return unavailable(fmt.Errorf("read expirable requests: %w", err))
		}
		for _, id := range ids {
			var locked string
			err := tx.QueryRowContext(ctx, qLockOpenRequest, id).Scan(&locked)
			if errors.Is(err, sql.ErrNoRows) {
				continue // being popped or ended elsewhere
			}
			if err != nil {
				return unavailable(fmt.Errorf("lock request %s: %w", id, err))
			}
			var still bool
			if err := tx.QueryRowContext(ctx, qStillExpirable, id, nanos(cutoff)).Scan(&still); err != nil {
				return unavailable(fmt.Errorf("read jobs of request %s: %w", id, err))
			}
			if !still {
				continue
			}
			refs, err := s.endRequestTx(ctx, tx, id, horde.RequestFaulted, "expired", at)
			if errors.Is(err, horde.ErrDuplicate) {
				continue
			}
			if err != nil {
				return err
			}
			ended, uploaded = append(ended, id), append(uploaded, refs...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.dropBlobs(ctx, uploaded...)
	return ended, nil
}

// Pending implements horde.SharedQueue.
func (q pgQueue) Pending(ctx context.Context, jobID string) (horde.PendingSubmit, bool, error) {
	_, p, err := scanPendingSubmit(q.s.r.QueryRowContext(ctx,
		`SELECT job_id, state, seed, metadata, at FROM pending_submits WHERE job_id = ?`, jobID))
	if errors.Is(err, sql.ErrNoRows) {
		return horde.PendingSubmit{}, false, nil
	}
	if err != nil {
		return horde.PendingSubmit{}, false, unavailable(fmt.Errorf("pending submit of job %s: %w", jobID, err))
	}
	return p, true, nil
}
