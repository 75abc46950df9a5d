package horde

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Direct uploads. With Config.Uploads set (an S3-compatible bucket), a pop
// hands the worker a presigned PUT URL of the bucket as its r2_upload, as
// the AI Horde hands out presigned URLs of its R2 bucket, and the worker's
// bytes never pass through this process. A submit of generation "R2" takes
// the job's object from the bucket into the blob store (bounded, then the
// same image check as any result) and settles as usual. A submit that comes
// before the object is there is deferred (r2.go); Sweep then polls the
// bucket for the deferred jobs at a bounded rate until their deadline.

// UploadBucket is where workers PUT their results themselves.
type UploadBucket interface {
	// UploadURL returns a URL that takes one HTTP PUT of jobID's result
	// for ttl.
	UploadURL(ctx context.Context, jobID string, ttl time.Duration) (string, error)
	// TakeUpload moves what the worker PUT for jobID, at most max bytes,
	// into the blob store as the job's upload (what RequestStore.Upload then
	// returns) and returns its size. Nothing PUT yet is ErrNotFound; more
	// than max bytes, or nothing, is KindInvalid (the object is dropped; the
	// worker may PUT again); a job no longer processing is ErrDuplicate.
	TakeUpload(ctx context.Context, jobID string, max int64) (int64, error)
}

// ResultLinks hands out links to result images served by the place they
// live (a presigned GET of a bucket), for clients that ask for links.
type ResultLinks interface {
	// ResultURL returns a link to the blob at ref, or "" if there is none
	// to give (the image is then served by this process).
	ResultURL(ctx context.Context, ref string) (string, error)
}

// DefaultDirectUploadLimit is the largest object a worker's direct upload
// may be (Config.DirectUploadLimit), as the API's own r2 PUT by default.
const DefaultDirectUploadLimit = 20 << 20

const (
	// uploadPollEvery is how often the bucket is asked for a deferred
	// job's object.
	uploadPollEvery = 2 * time.Second
	// uploadPollsPerSweep bounds the bucket reads of one sweep, however many
	// jobs wait for their upload.
	uploadPollsPerSweep = 32
)

// DirectUploadURL returns the presigned URL that the worker of job PUTs its
// result to, valid until the job's deadline, or "" when workers upload to
// this process (no Config.Uploads).
func (h *Horde) DirectUploadURL(ctx context.Context, job Job) (string, error) {
	if h.cfg.Uploads == nil {
		return "", nil
	}
	ttl := job.Deadline.Sub(h.clock.Now())
	u, err := h.cfg.Uploads.UploadURL(ctx, job.ID, max(ttl, time.Minute))
	if err != nil {
		return "", fmt.Errorf("upload URL of job %s: %w", job.ID, err)
	}
	return u, nil
}

// ResultURL returns a direct link to the result image at ref, or "" when
// this process serves it (no Config.ResultLinks, or none to give).
func (h *Horde) ResultURL(ctx context.Context, ref string) (string, error) {
	if h.cfg.ResultLinks == nil || ref == "" {
		return "", nil
	}
	return h.cfg.ResultLinks.ResultURL(ctx, ref)
}

// takeDirectUpload takes jobID's object from the bucket, if there is one
// and a bucket at all. It reports whether it took one; ErrNotFound is
// "not yet", not an error.
func (h *Horde) takeDirectUpload(ctx context.Context, jobID string) (bool, error) {
	if h.cfg.Uploads == nil {
		return false, nil
	}
	_, err := h.cfg.Uploads.TakeUpload(ctx, jobID, h.cfg.DirectUploadLimit)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound) || IsKind(err, KindNotFound):
		return false, nil
	case IsKind(err, KindInvalid):
		return false, err
	case duplicate(err):
		return false, &Error{Kind: KindConflict, Code: "JobNotProcessing", Message: "this job is no longer processing", Err: err}
	}
	return false, fmt.Errorf("take upload of job %s: %w", jobID, err)
}

// pollUploads looks in the bucket for the objects of jobs whose worker
// submitted "R2" before uploading, and settles those that are in. Each job
// is asked for at most every uploadPollEvery and one sweep asks for at most
// uploadPollsPerSweep jobs, the longest unasked first, so the bucket's load is bounded whatever the number of jobs.
func (h *Horde) pollUploads(ctx context.Context, now time.Time) error {
	if h.cfg.Uploads == nil {
		return nil
	}
	h.mu.Lock()
	var due []*openJob
	for _, oj := range h.jobs {
		if oj.pending == nil || oj.busy || now.Sub(oj.polled) < uploadPollEvery || !oj.job.Deadline.After(now) {
			continue
		}
		due = append(due, oj)
	}
	if len(due) > uploadPollsPerSweep {
		slices.SortFunc(due, func(a, b *openJob) int { return a.polled.Compare(b.polled) })
		due = due[:uploadPollsPerSweep]
	}
	for _, oj := range due {
		oj.busy = true
		oj.polled = now
	}
	h.mu.Unlock()
	var errs []error
	for _, oj := range due {
		took, err := h.takeDirectUpload(ctx, oj.job.ID)
		h.release(oj)
		switch {
		case IsKind(err, KindInvalid):
			h.log.Info("direct upload refused; waiting for another until the deadline", "job", oj.job.ID, "err", err)
		case IsKind(err, KindConflict):
		case err != nil:
			errs = append(errs, err)
		case took:
			if err := h.settlePending(ctx, oj.job.ID); err != nil && !IsKind(err, KindInvalid) && !IsKind(err, KindConflict) {
				errs = append(errs, fmt.Errorf("settle job %s: %w", oj.job.ID, err))
			} else if err != nil {
				h.log.Info("direct upload refused; waiting for another until the deadline", "job", oj.job.ID, "err", err)
			}
		}
	}
	return errors.Join(errs...)
}

// pollUploadsShared is pollUploads on a shared queue, for the deferred
// submits of every process (SweepShared, in the holder of the "sweeps"
// lease): the store hands out the jobs due (SharedQueue.DueUploads, each to
// one process, marked asked), so that a deferred submit outlives the
// process that took it and the bucket is asked as rarely as in one process.
func (h *Horde) pollUploadsShared(ctx context.Context, now time.Time) error {
	if h.cfg.Uploads == nil {
		return nil
	}
	ids, err := h.cfg.Queue.DueUploads(ctx, now, now.Add(-uploadPollEvery), uploadPollsPerSweep)
	if err != nil {
		return fmt.Errorf("read deferred R2 submits: %w", err)
	}
	var errs []error
	for _, id := range ids {
		took, err := h.takeDirectUpload(ctx, id)
		switch {
		case IsKind(err, KindInvalid):
			h.log.Info("direct upload refused; waiting for another until the deadline", "job", id, "err", err)
		case IsKind(err, KindConflict):
		case err != nil:
			errs = append(errs, err)
		case took:
			if err := h.settlePending(ctx, id); err != nil && !IsKind(err, KindInvalid) && !IsKind(err, KindConflict) {
				errs = append(errs, fmt.Errorf("settle job %s: %w", id, err))
			} else if err != nil {
				h.log.Info("direct upload refused; waiting for another until the deadline", "job", id, "err", err)
			}
		}
	}
	return errors.Join(errs...)
}
