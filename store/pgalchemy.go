package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// Alchemy on the shared queue (horde.SharedQueue's forms): a waiting form
// is claimed straight from interrogation_forms, which carries its
// interrogation's priority key, submit time and requester (migration
// 00033), over the partial indexes interrogation_forms_pick (name, key) and
// interrogation_forms_user (user, key). A claim reads candidates form name
// by form name in index order, locks their interrogations with FOR UPDATE
// SKIP LOCKED (one another process is claiming from or writing is passed
// over), reads the forms again under the lock, lets the horde match each
// (horde's canServeForm) and starts the taken ones in the same transaction.
// Every other write of forms locks their interrogation first (alchemy.go),
// so that the writes of one interrogation are serialised across processes.

const (
	// The candidates after the keyset cursor (score, created_at,
	// interrogation_id, idx), read form name by form name (or user by user)
	// so that each uses its index in order. The order is the memory queue's
	// of one process: the priority key, then the interrogations in submit
	// order, then each one's forms in their order. "score <= ?1" is the
	// index's range condition: without it a resumed read scans the forms
	// before the cursor again (with 100k waiting forms, 25 ms instead of 1).
	qFormsByName = `SELECT c.id, c.interrogation_id, c.idx, c.score, c.created_at FROM unnest(?6::text[]) AS m(name)
CROSS JOIN LATERAL (
	SELECT f.id, f.interrogation_id, f.idx, f.score, f.created_at FROM interrogation_forms f
	WHERE f.state = 'waiting' AND f.name = m.name
	  AND f.score <= ?1 AND (f.score < ?1 OR (f.score = ?1 AND (f.created_at > ?2 OR (f.created_at = ?2 AND (f.interrogation_id, f.idx) > (?3, ?4)))))
	ORDER BY f.score DESC, f.created_at, f.interrogation_id, f.idx LIMIT ?5) c
ORDER BY c.score DESC, c.created_at, c.interrogation_id, c.idx LIMIT ?5`
	qFormsByUser = `SELECT c.id, c.interrogation_id, c.idx, c.score, c.created_at FROM unnest(?6::bigint[]) AS u(user_id)
CROSS JOIN LATERAL (
	SELECT f.id, f.interrogation_id, f.idx, f.score, f.created_at FROM interrogation_forms f
	WHERE f.state = 'waiting' AND f.user_id = u.user_id AND f.name = ANY(?7::text[])
	  AND f.score <= ?1 AND (f.score < ?1 OR (f.score = ?1 AND (f.created_at > ?2 OR (f.created_at = ?2 AND (f.interrogation_id, f.idx) > (?3, ?4)))))
	ORDER BY f.score DESC, f.created_at, f.interrogation_id, f.idx LIMIT ?5) c
ORDER BY c.score DESC, c.created_at, c.interrogation_id, c.idx LIMIT ?5`
	qLockOpenInterrogations = `SELECT ` + interrogationColumns + ` FROM interrogations
WHERE id = ANY(?::text[]) AND finished_at = 0 FOR UPDATE SKIP LOCKED`
	qWaitingFormsOf = `SELECT ` + formColumns + ` FROM interrogation_forms WHERE id = ANY(?::text[]) AND state = 'waiting'`

	qOverdueForms = `SELECT ` + formColumns + ` FROM interrogation_forms
WHERE state = 'processing' AND deadline > 0 AND deadline <= ? ORDER BY deadline, id LIMIT ?`
	// qExpirableInterrogations are open interrogations with a waiting form,
	// none processing, and no activity since the cutoff;
	// qStillExpirable checks one again once its row is locked.
	qExpirableInterrogations = `SELECT i.id FROM interrogations i
WHERE i.finished_at = 0 AND i.active_at <= ?1
  AND EXISTS (SELECT 1 FROM interrogation_forms f WHERE f.interrogation_id = i.id AND f.state = 'waiting')
  AND NOT EXISTS (SELECT 1 FROM interrogation_forms f WHERE f.interrogation_id = i.id AND f.state = 'processing')
ORDER BY i.active_at, i.id LIMIT ?2`
	qStillExpirableInterrogation = `SELECT EXISTS (SELECT 1 FROM interrogations i WHERE i.id = ?1 AND i.finished_at = 0
  AND i.active_at <= ?2
  AND NOT EXISTS (SELECT 1 FROM interrogation_forms f WHERE f.interrogation_id = i.id AND f.state = 'processing'))`
	qLockOpenInterrogation = `SELECT id FROM interrogations WHERE id = ? AND finished_at = 0 FOR UPDATE SKIP LOCKED`
	qQueuedForms           = `SELECT count(*) FROM interrogation_forms WHERE state = 'waiting'`
)

// formCursor is where a candidate read of forms resumes.
type formCursor struct {
	score, created int64
	interrogation  string
	idx            int64
}

// formCandidate is one waiting form read before its interrogation is locked.
type formCandidate struct{ id, interrogation string }

// ClaimForms implements horde.SharedQueue.
func (q pgQueue) ClaimForms(ctx context.Context, fq horde.FormClaimQuery,
	choose func(horde.Interrogation, horde.AlchemyForm) bool) ([]horde.AlchemyAssignment, error) {
	if fq.Want <= 0 || fq.Limit <= 0 || len(fq.Forms) == 0 {
		return nil, nil
	}
	s := q.s
	var started []horde.AlchemyAssignment
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		started = nil
		offered := 0
		locked := make(map[string]*horde.Interrogation) // interrogations this claim holds
		passed := make(map[string]bool)                 // and those another holds
		cur := formCursor{score: 1<<63 - 1}
		chunk := 1
		for offered < fq.Limit && len(started) < fq.Want {
			cands, next, err := q.formCandidates(ctx, tx, fq, cur)
			if err != nil {
				return err
			}
			if len(cands) == 0 {
				return nil
			}
			cur = next
			// Lock and read a few candidates at a time, more while they are
			// passed over, as Claim does.
			for len(cands) > 0 && offered < fq.Limit && len(started) < fq.Want {
				n := min(chunk, len(cands))
				batch := cands[:n]
				cands = cands[n:]
				chunk = min(chunk*4, claimBatch)
				forms, err := q.lockForms(ctx, tx, batch, locked, passed)
				if err != nil {
					return err
				}
				for _, c := range batch {
					f, ok := forms[c.id]
					in := locked[c.interrogation]
					if !ok || in == nil {
						continue // taken meanwhile, or its interrogation held elsewhere
					}
					offered++
					if choose(*in, f) {
						if err := startFormTx(ctx, tx, s, f.ID, fq.WorkerID, fq.Started, fq.Deadline); err != nil {
							return err
						}
						f.State, f.WorkerID = horde.FormProcessing, fq.WorkerID
						f.StartedAt, f.Deadline = fq.Started, fq.Deadline
						started = append(started, horde.AlchemyAssignment{Form: f, SourceRef: in.SourceRef, Width: in.Width, Height: in.Height})
					}
					if offered >= fq.Limit || len(started) >= fq.Want {
						break
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return started, nil
}

// formCandidates reads the next waiting forms after cur and the cursor
// after them.
func (q pgQueue) formCandidates(ctx context.Context, tx *sql.Tx, fq horde.FormClaimQuery, cur formCursor) ([]formCandidate, formCursor, error) {
	var rows *sql.Rows
	var err error
	if len(fq.Users) > 0 {
		rows, err = tx.QueryContext(ctx, qFormsByUser, cur.score, cur.created, cur.interrogation, cur.idx, claimBatch,
			fq.Users, fq.Forms)
	} else {
		rows, err = tx.QueryContext(ctx, qFormsByName, cur.score, cur.created, cur.interrogation, cur.idx, claimBatch,
			fq.Forms)
	}
	if err != nil {
		return nil, cur, unavailable(fmt.Errorf("read the alchemy queue: %w", err))
	}
	defer rows.Close()
	var out []formCandidate
	for rows.Next() {
		var c formCandidate
		if err := rows.Scan(&c.id, &c.interrogation, &cur.idx, &cur.score, &cur.created); err != nil {
			return nil, cur, fmt.Errorf("read the alchemy queue: %w", err)
		}
		cur.interrogation = c.interrogation
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, cur, unavailable(fmt.Errorf("read the alchemy queue: %w", err))
	}
	return out, cur, nil
}

// lockForms locks the interrogations of cands that no other process holds
// (one statement that never waits), adding them to locked (and the others
// to passed), and returns the forms of cands still waiting, read under the
// locks.
func (q pgQueue) lockForms(ctx context.Context, tx *sql.Tx, cands []formCandidate,
	locked map[string]*horde.Interrogation, passed map[string]bool) (map[string]horde.AlchemyForm, error) {
	var lock []string
	for _, c := range cands {
		if locked[c.interrogation] == nil && !passed[c.interrogation] {
			lock = append(lock, c.interrogation)
		}
	}
	if len(lock) > 0 {
		ins, err := queryRows(ctx, tx, "lock interrogations of the alchemy queue", scanInterrogation, qLockOpenInterrogations, lock)
		if err != nil {
			return nil, unavailable(err)
		}
		for i := range ins {
			locked[ins[i].ID] = &ins[i]
		}
		for _, id := range lock {
			if locked[id] == nil {
				passed[id] = true
			}
		}
	}
	var ids []string
	for _, c := range cands {
		if locked[c.interrogation] != nil {
			ids = append(ids, c.id)
		}
	}
	out := make(map[string]horde.AlchemyForm, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	forms, err := queryRows(ctx, tx, "forms of the alchemy queue", scanForm, qWaitingFormsOf, ids)
	if err != nil {
		return nil, unavailable(err)
	}
	for _, f := range forms {
		out[f.ID] = f
	}
	return out, nil
}

// OverdueForms implements horde.SharedQueue.
func (q pgQueue) OverdueForms(ctx context.Context, now time.Time, limit int) ([]horde.AlchemyForm, error) {
	forms, err := queryRows(ctx, q.s.r, "overdue alchemy forms", scanForm, qOverdueForms, nanos(now), limit)
	if err != nil {
		return nil, unavailable(err)
	}
	return forms, nil
}

// ExpireInterrogations implements horde.SharedQueue.
func (q pgQueue) ExpireInterrogations(ctx context.Context, cutoff, at time.Time, limit int) ([]string, error) {
	s := q.s
	var ended, uploads []string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ended, uploads = nil, nil
		ids, err := queryRows(ctx, tx, "expirable interrogations", scanString, qExpirableInterrogations, nanos(cutoff), limit)
		if err != nil {
			return unavailable(err)
		}
		for _, id := range ids {
			var got string
			err := tx.QueryRowContext(ctx, qLockOpenInterrogation, id).Scan(&got)
			if errors.Is(err, sql.ErrNoRows) {
				continue // being popped or ended elsewhere
			}
			if err != nil {
				return unavailable(fmt.Errorf("lock interrogation %s: %w", id, err))
			}
			var still bool
			if err := tx.QueryRowContext(ctx, qStillExpirableInterrogation, id, nanos(cutoff)).Scan(&still); err != nil {
				return unavailable(fmt.Errorf("read forms of interrogation %s: %w", id, err))
			}
			if !still {
				continue
			}
			refs, err := s.endInterrogationTx(ctx, tx, id, horde.FormFaulted, at)
			if err != nil {
				return err
			}
			ended, uploads = append(ended, id), append(uploads, refs...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.dropBlobs(ctx, uploads...)
	return ended, nil
}

// QueuedForms implements horde.SharedQueue.
func (q pgQueue) QueuedForms(ctx context.Context) (int, error) {
	var n int
	if err := q.s.r.QueryRowContext(ctx, qQueuedForms).Scan(&n); err != nil {
		return 0, unavailable(fmt.Errorf("count the waiting alchemy forms: %w", err))
	}
	return n, nil
}
