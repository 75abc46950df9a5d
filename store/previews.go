package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

// Previews (horde/previews.go): one row per request, the latest image a
// worker sent for one of its processing jobs. The row is written only while
// that job is processing (the INSERT selects the job in that state) and is
// deleted when the job ends (FinishJob, FailJob), when the request ends
// (EndRequest) and with the request (ON DELETE CASCADE, retention).

const (
	// qSetPreview writes a preview if its job is processing: an upsert by
	// request, latest wins.
	qSetPreview = `INSERT INTO previews (request_id, job_id, content_type, image, etag, at)
SELECT request_id, id, ?, ?, ?, ? FROM jobs WHERE id = ? AND request_id = ? AND state = 'processing'
ON CONFLICT (request_id) DO UPDATE SET job_id = excluded.job_id, content_type = excluded.content_type,
	image = excluded.image, etag = excluded.etag, at = excluded.at`
	qPreview = `SELECT request_id, job_id, content_type, image, etag, at FROM previews WHERE request_id = ?`
	// qDeleteJobPreview forgets the preview a job sent, when the job ends.
	qDeleteJobPreview = `DELETE FROM previews WHERE job_id = ?`
	// qDeleteRequestPreview forgets a request's preview, when it ends.
	qDeleteRequestPreview = `DELETE FROM previews WHERE request_id = ?`
)

var _ horde.PreviewStore = (*Store)(nil)

// SetPreview stores p as its request's preview, replacing any earlier one,
// if its job is a processing job of that request. ErrNotFound for an
// unknown job; ErrDuplicate for a job no longer processing (nothing is
// written then).
func (s *Store) SetPreview(ctx context.Context, p horde.Preview) error {
	if p.JobID == "" || p.RequestID == "" {
		return horde.Invalidf("id", "a preview needs its job and request")
	}
	if p.At.IsZero() {
		p.At = s.clock.Now()
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, qSetPreview, p.ContentType, p.Image, p.ETag, nanos(p.At), p.JobID, p.RequestID)
		if err != nil {
			return unavailable(fmt.Errorf("store preview of job %s: %w", p.JobID, err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store preview of job %s: %w", p.JobID, err)
		} else if n == 0 {
			return s.jobNotProcessing(ctx, tx, p.JobID, "store preview of job")
		}
		return nil
	})
}

// Preview returns the preview of a request; ErrNotFound if it has none.
func (s *Store) Preview(ctx context.Context, requestID string) (horde.Preview, error) {
	var p horde.Preview
	var at int64
	err := s.r.QueryRowContext(ctx, qPreview, requestID).Scan(&p.RequestID, &p.JobID, &p.ContentType, &p.Image, &p.ETag, &at)
	if err != nil {
		return horde.Preview{}, notFound(err, "preview of request %s", requestID)
	}
	p.At = fromNanos(at)
	return p, nil
}

// deletePreviews runs one of the preview DELETEs in tx.
func (s *Store) deletePreviews(ctx context.Context, tx *sql.Tx, query, id string) error {
	if _, err := s.exec(ctx, tx, query, id); err != nil {
		return unavailable(fmt.Errorf("delete preview of %s: %w", id, err))
	}
	return nil
}
