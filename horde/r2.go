package horde

import (
	"context"
	"fmt"
)

// Deferred R2 results. A worker that PUTs its image to the job's r2_upload
// URL and then submits generation "R2" is settled at once. One that submits
// "R2" first (the AI Horde's own CI worker does, and a worker whose PUT is
// still in flight) gets the AI Horde's answer, the reward it will earn, but
// no kudos move yet: the submission is recorded (durably, PendingSubmit)
// and settled when the bytes arrive and pass the image check. If they never
// arrive before the job's deadline (the upload URL's lifetime), the item is
// faulted (re-queued, counted against the worker) and no kudos move.

// deferSubmit records the R2 submit of a job whose upload is not in yet and
// returns the reward it will earn. The caller claimed oj.
func (h *Horde) deferSubmit(ctx context.Context, oj *openJob, s Submission) (int64, error) {
	now := h.clock.Now()
	seed := oj.job.Seed
	if s.Seed != nil {
		seed = *s.Seed
	}
	p := PendingSubmit{State: s.State, Seed: seed, Metadata: s.Metadata, At: now}
	err := h.store.SetPendingSubmit(ctx, oj.job.ID, p)
	if duplicate(err) {
		h.forget(oj)
		return 0, &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "this job was already submitted or is no longer processing", Err: err}
	}
	if err != nil {
		h.release(oj)
		return 0, fmt.Errorf("record pending submit of job %s: %w", oj.job.ID, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	oj.pending = &p
	oj.polled = now // the bucket was just asked (Submit)
	oj.busy = false
	owner, paused, trusted := int64(-1), true, false
	if ws := h.workers[oj.job.WorkerID]; ws != nil {
		owner, paused, trusted = ws.w.OwnerID, ws.w.Paused, ws.w.Trusted
	}
	h.log.Debug("R2 submit before its upload: settled when the bytes are in", "job", oj.job.ID)
	return h.pay.SettleJob(settlement(oj, s.State, owner, paused, trusted, now)).Reward, nil
}

// settlePending settles a job whose R2 submit came before its upload, now
// that the upload is in. A job with no pending submit is left to its
// worker's submit. An upload that fails the image check is KindInvalid and
// the job keeps waiting for a real one until its deadline.
func (h *Horde) settlePending(ctx context.Context, jobID string) error {
	h.mu.Lock()
	oj := h.jobs[jobID]
	if oj == nil && h.shared() {
		h.mu.Unlock()
		var err error
		if oj, err = h.sharedJob(ctx, jobID); err != nil || oj == nil || oj.pending == nil {
			return err // a job not waiting for this upload is left to its submit
		}
		h.mu.Lock()
		oj.busy = false // a view of its own: nobody else marks it
	}
	if oj == nil || oj.pending == nil || oj.busy {
		h.mu.Unlock()
		return nil
	}
	oj.busy = true
	p := *oj.pending
	h.mu.Unlock()
	_, err := h.finishJob(ctx, oj, Submission{JobID: jobID, State: p.State, Seed: &p.Seed, Metadata: p.Metadata, UseUpload: true})
	return err
}
