package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
)

const (
	// polled_at (00033): the submit asked the bucket (or hordebot's upload)
	// as it came.
	qInsertPendingSubmit = `INSERT INTO pending_submits (job_id, state, seed, metadata, at, polled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
ON CONFLICT (job_id) DO NOTHING`
	// qDueUploads takes the pending submits whose bucket is due to be asked
	// again (PostgreSQL only: SKIP LOCKED hands each to one process).
	qDueUploads = `UPDATE pending_submits SET polled_at = ?1 WHERE job_id IN (
	SELECT p.job_id FROM pending_submits p JOIN jobs j ON j.id = p.job_id
	WHERE j.state = 'processing' AND j.deadline > ?1 AND p.polled_at < ?2
	ORDER BY p.polled_at, p.job_id LIMIT ?3 FOR UPDATE OF p SKIP LOCKED)
RETURNING job_id`
	qOpenPendingSubmits = `SELECT p.job_id, p.state, p.seed, p.metadata, p.at FROM pending_submits p
JOIN jobs j ON j.id = p.job_id WHERE j.state = 'processing'`
)

// SetPendingSubmit records a submit of generation "R2" that came before its
// upload. ErrNotFound for an unknown job; ErrDuplicate if the job is no
// longer processing or was submitted already.
func (s *Store) SetPendingSubmit(ctx context.Context, jobID string, p horde.PendingSubmit) error {
	meta, err := json.Marshal(metadataOf(p.Metadata))
	if err != nil {
		return fmt.Errorf("pending submit of job %s metadata: %w", jobID, err)
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var state string
		if err := s.txQueryRow(ctx, tx, qJobState, jobID).Scan(&state); err != nil {
			return notFound(err, "pending submit of job %s", jobID)
		}
		if state != string(horde.JobProcessing) {
			return fmt.Errorf("pending submit of job %s: job is %s: %w", jobID, state, horde.ErrDuplicate)
		}
		res, err := s.exec(ctx, tx, qInsertPendingSubmit, jobID, p.State, p.Seed, string(meta), nanos(p.At))
		if err != nil {
			return unavailable(fmt.Errorf("record pending submit of job %s: %w", jobID, err))
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("pending submit of job %s: submitted already: %w", jobID, horde.ErrDuplicate)
		}
		return nil
	})
}

// DueUploads implements horde.SharedQueue.
func (q pgQueue) DueUploads(ctx context.Context, now, polledBefore time.Time, limit int) ([]string, error) {
	var ids []string
	err := q.s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		ids, err = queryRows(ctx, tx, "deferred R2 submits due", scanString, qDueUploads, nanos(now), nanos(polledBefore), limit)
		return unavailable(err)
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// openPendingSubmits reads the pending submits of processing jobs, for Open.
func openPendingSubmits(ctx context.Context, tx *sql.Tx) (map[string]horde.PendingSubmit, error) {
	rows, err := tx.QueryContext(ctx, qOpenPendingSubmits)
	if err != nil {
		return nil, fmt.Errorf("open pending submits: %w", err)
	}
	defer rows.Close()
	out := map[string]horde.PendingSubmit{}
	for rows.Next() {
		id, p, err := scanPendingSubmit(rows)
		if err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

// scanPendingSubmit reads job_id, state, seed, metadata, at.
func scanPendingSubmit(row interface{ Scan(...any) error }) (string, horde.PendingSubmit, error) {
	var id, meta string
	var p horde.PendingSubmit
	var at int64
	if err := row.Scan(&id, &p.State, &p.Seed, &meta, &at); err != nil {
		return "", p, err
	}
	if meta != "" && meta != "[]" && meta != "null" {
		var stored []storedMetadata
		if err := json.Unmarshal([]byte(meta), &stored); err != nil {
			return "", p, fmt.Errorf("pending submit of job %s metadata: %w", id, err)
		}
		p.Metadata = metadataFrom(stored)
	}
	p.At = fromNanos(at)
	return id, p, nil
}
