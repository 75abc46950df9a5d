package horde

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// UploadTarget reports whether jobID takes an r2 upload now: an open
// (processing) image job. The API calls it before it reads a single byte of
// the upload body, so that a PUT to an unknown or finished job costs neither
// memory nor disk. An unknown job is KindNotFound; a finished one
// KindConflict; a text job KindInvalid. A job already uploaded takes another
// upload, which replaces the first (a worker retrying its PUT, or replacing
// an image the check refused); the replaced image is deleted.
func (h *Horde) UploadTarget(ctx context.Context, jobID string) error {
	h.mu.Lock()
	oj := h.jobs[jobID]
	var kind RequestKind
	if oj != nil {
		kind = oj.r.req.Kind
	}
	h.mu.Unlock()
	if oj == nil && h.shared() {
		var err error
		if oj, err = h.sharedJob(ctx, jobID); err != nil {
			return err
		}
		if oj != nil {
			kind = oj.r.req.Kind
		}
	}
	if oj == nil {
		return h.closedJobError(ctx, jobID)
	}
	if kind != KindImage {
		return Invalidf("id", "job %s is not an image job", QuoteInput(jobID))
	}
	return nil
}

// UploadFrom streams a worker's r2 upload of at most max bytes for jobID
// into the blob store and records it for the job's submit (generation
// "R2"). The job is checked (UploadTarget) before r is read, and the bytes
// go to disk as they arrive: memory does not grow with the upload. It
// returns the size stored. Errors as UploadTarget's, plus: more than max
// bytes or an empty body is KindInvalid; an error reading r is returned
// wrapped (nothing is stored); a full disk is KindUnavailable.
func (h *Horde) UploadFrom(ctx context.Context, jobID string, r io.Reader, max int64) (int64, error) {
	if max <= 0 || max > MaxUploadBytes {
		max = MaxUploadBytes
	}
	if err := h.UploadTarget(ctx, jobID); err != nil {
		return 0, err
	}
	ref, n, err := h.store.PutBlobFrom(ctx, r, max)
	if err != nil {
		return 0, fmt.Errorf("store upload of job %s: %w", jobID, err)
	}
	if n == 0 {
		return 0, Invalidf("image", "the upload is empty")
	}
	if err := h.recordUpload(ctx, jobID, ref); err != nil {
		return 0, err
	}
	return n, nil
}

// recordUpload ties a stored blob to a processing job; if the worker
// already submitted "R2" for it, the job is settled now (r2.go), and an
// image that fails the image check is KindInvalid (the worker may upload
// again until the job's deadline).
func (h *Horde) recordUpload(ctx context.Context, jobID, ref string) error {
	err := h.store.SetUpload(ctx, jobID, ref)
	switch {
	case notFound(err):
		return NotFoundf("JobNotFound", "no job has id %s", QuoteInput(jobID))
	case duplicate(err):
		return &Error{Kind: KindConflict, Code: "JobNotProcessing", Message: "this job is no longer processing", Err: err}
	case err != nil:
		return fmt.Errorf("record upload of job %s: %w", jobID, err)
	}
	return h.settlePending(ctx, jobID)
}

// Upload records the whole image of an r2 upload for a processing image job,
// as UploadFrom does for a stream.
func (h *Horde) Upload(ctx context.Context, jobID string, data []byte) error {
	if len(data) == 0 {
		return Invalidf("image", "the upload is empty")
	}
	if len(data) > MaxUploadBytes {
		return Invalidf("image", "the upload is larger than %d bytes", MaxUploadBytes)
	}
	_, err := h.UploadFrom(ctx, jobID, bytes.NewReader(data), MaxUploadBytes)
	return err
}
