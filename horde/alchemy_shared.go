package horde

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Alchemy on a shared queue (Config.Queue): what Interrogate, PopAlchemy,
// SubmitAlchemy, CancelInterrogation and the sweeps do when the waiting
// forms live in a database several processes share. Nothing of an
// interrogation is kept in memory: a pop claims forms from the store
// (SharedQueue.ClaimForms: each interrogation locked while horde's
// canServeInterrogation looks at it, the forms started in the same
// transaction); a submit, a fault or an abort reads the form and its
// interrogation from the store into a view of its own and ends the attempt
// with a conditional write (the form still processing that attempt), so of
// two processes acting on one form at once one wins and the other gets a
// conflict; holds are read from the store (Held), and a new interrogation is
// admitted under its requester's lock (AdmitInterrogation).

// sharedFormBatch bounds the overdue forms and expired interrogations one
// shared sweep ends.
const sharedFormBatch = 500

// interrogateShared stores a new interrogation on a shared queue: its
// source image first, then the interrogation, admitted under the
// requester's lock against what they hold in every process.
func (h *Horde) interrogateShared(ctx context.Context, in *Interrogation, source []byte, cost int64) error {
	ref, err := h.store.PutBlob(ctx, source)
	if err != nil {
		return fmt.Errorf("store source image: %w", err)
	}
	in.SourceRef = ref
	h.identify(in)
	a := h.newAdmission(in.UserID, len(in.Forms), cost, true)
	if err := h.cfg.Queue.AdmitInterrogation(ctx, *in, a.check); err != nil {
		if IsKind(err, KindRateLimited) || IsKind(err, KindKudosUpfront) {
			return err
		}
		return fmt.Errorf("store interrogation: %w", err)
	}
	return nil
}

// popAlchemyShared is PopAlchemy's claim on a shared queue: the forms of the
// alchemist's owner (and priority users) first, then, unless it is in
// maintenance, those of the forms it offers, with canServeInterrogation's
// rules.
func (h *Horde) popAlchemyShared(ctx context.Context, ws *workerState, p AlchemyPop, skipped Skipped, now time.Time) ([]AlchemyAssignment, Skipped, error) {
	h.mu.Lock()
	first := firstAlchemyUsers(ws, p)
	maintenance, workerID, workerName := ws.w.Maintenance, ws.w.ID, ws.w.Name
	budget := h.cfg.PopScanLimit
	h.mu.Unlock()

	choose := func(firstTier bool) func(Interrogation, AlchemyForm) bool {
		return func(in Interrogation, _ AlchemyForm) bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			if !firstTier && slices.Contains(first, in.UserID) {
				return false // looked at in the first tier
			}
			budget--
			if reason := canServeInterrogation(ws, &in); reason != "" {
				if reason != skipSilently {
					skipped[reason]++
				}
				return false
			}
			return true
		}
	}
	q := FormClaimQuery{Users: first, Forms: p.Forms, Want: p.Amount, Limit: budget,
		WorkerID: workerID, Started: now, Deadline: now.Add(AlchemyFormTTL)}
	got, err := h.cfg.Queue.ClaimForms(ctx, q, choose(true))
	if err == nil && len(got) < p.Amount && !maintenance {
		h.mu.Lock()
		q.Users, q.Want, q.Limit = nil, p.Amount-len(got), budget
		h.mu.Unlock()
		if q.Limit > 0 {
			var more []AlchemyAssignment
			more, err = h.cfg.Queue.ClaimForms(ctx, q, choose(false))
			got = append(got, more...)
		}
	}
	if err != nil && len(got) == 0 {
		return nil, skipped, fmt.Errorf("claim alchemy forms for worker %s: %w", workerID, err)
	}
	if err != nil {
		h.log.Error("claim more alchemy forms", "worker", workerID, "err", err)
	}
	for i := range got {
		got[i].Form.WorkerName = workerName
	}
	return got, skipped, nil
}

// sharedForm is the view of a processing form of the shared queue, read
// from the store with its interrogation, for a submit or an abort in this
// process (whichever process popped it); nil, nil if it is not processing
// (or unknown).
func (h *Horde) sharedForm(ctx context.Context, f AlchemyForm) (*openForm, error) {
	if f.State != FormProcessing {
		return nil, nil
	}
	if err := h.knowWorker(ctx, f.WorkerID); err != nil {
		return nil, err
	}
	in, err := h.store.Interrogation(ctx, f.InterrogationID)
	if err != nil {
		return nil, fmt.Errorf("read interrogation %s of form %s: %w", f.InterrogationID, f.ID, err)
	}
	in.Forms = nil
	return &openForm{f: f, oi: &openInterrogation{in: in, activity: f.StartedAt}, busy: true}, nil
}

// claimFormShared is claimForm on a shared queue: the form is read from the
// store. A second submit racing this one is refused by the store's
// conditional write (FinishAlchemyForm of a form still processing).
func (h *Horde) claimFormShared(ctx context.Context, c Credential, formID string) (*openForm, error) {
	f, err := h.store.AlchemyForm(ctx, formID)
	if err != nil && !notFound(err) {
		return nil, fmt.Errorf("read form %s: %w", formID, err)
	}
	var of *openForm
	if err == nil {
		if of, err = h.sharedForm(ctx, f); err != nil {
			return nil, err
		}
	}
	if of == nil {
		return nil, h.closedFormError(ctx, formID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.maySubmitForm(c, of.f); err != nil {
		return nil, err
	}
	return of, nil
}

// cancelInterrogationShared is CancelInterrogation on a shared queue,
// whichever process accepted it: one write ends its open forms (under its
// lock, so that a submit finishing meanwhile keeps its result).
func (h *Horde) cancelInterrogationShared(ctx context.Context, id string) (Interrogation, error) {
	in, err := h.InterrogationStatus(ctx, id)
	if err != nil || !in.FinishedAt.IsZero() {
		return in, err
	}
	if err := h.store.EndInterrogation(ctx, id, FormCancelled, h.clock.Now()); err != nil {
		return Interrogation{}, fmt.Errorf("cancel interrogation %s: %w", id, err)
	}
	h.log.Info("interrogation ended", "interrogation", id, "state", FormCancelled, "reason", "cancelled by the requester")
	return h.InterrogationStatus(ctx, id)
}

// abortOverdueFormsShared aborts the forms of the shared queue past their
// deadline, whichever process popped them: each abort is a conditional
// write of that attempt (FailAlchemyForm), so of several processes sweeping
// at once one acts and the others find it done.
func (h *Horde) abortOverdueFormsShared(ctx context.Context, now time.Time) error {
	forms, err := h.cfg.Queue.OverdueForms(ctx, now, sharedFormBatch)
	if err != nil {
		return fmt.Errorf("read overdue alchemy forms: %w", err)
	}
	var errs []error
	for _, f := range forms {
		of, err := h.sharedForm(ctx, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := h.failForm(ctx, of, false); err != nil && !IsKind(err, KindConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// expireInterrogationsShared ends the interrogations of the shared queue
// nobody popped for ExpireAfter, whichever process accepted them.
func (h *Horde) expireInterrogationsShared(ctx context.Context, now time.Time) error {
	ids, err := h.cfg.Queue.ExpireInterrogations(ctx, now.Add(-ExpireAfter), now, sharedFormBatch)
	if err != nil {
		return fmt.Errorf("expire interrogations: %w", err)
	}
	for _, id := range ids {
		h.log.Info("interrogation ended", "interrogation", id, "state", FormFaulted, "reason", "expired: no alchemist took it")
	}
	return nil
}
