package horde

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// SubmitAlchemy records an alchemist's result for a form and returns its
// reward. State "faulted" puts the form back in the queue (faulted for good
// after MaxFormAborts) and earns nothing; any other state is a result, as
// on the AI Horde. A text form's result must be a JSON object holding the
// form's name ({"caption": "..."}); an image form's result is the image
// uploaded to its r2_upload (UseUpload) or sent inline, which must pass the
// image check at the source's size (a whole multiple of it for upscalers).
// The requester pays the form's cost and the alchemist's owner earns its
// reward in the transaction that stores the result (kudos.PaymentRules, as
// image jobs). An unknown form is KindNotFound "JobNotFound"; a second
// submit KindConflict "DuplicateGen"; another user's form KindForbidden.
func (h *Horde) SubmitAlchemy(ctx context.Context, c Credential, s AlchemySubmission) (int64, error) {
	s.FormID = strings.TrimSpace(s.FormID)
	if s.FormID == "" {
		return 0, Invalidf("id", "a form id is required")
	}
	switch s.State {
	case "":
		s.State = ResultOK
	case ResultOK, ResultCensored, ResultFaulted, ResultCSAM:
	default:
		return 0, Invalidf("state", "unknown state %s: want ok or faulted", QuoteInput(s.State))
	}
	if len(s.Image) > MaxUploadBytes {
		return 0, Invalidf("result", "the image is larger than %d bytes", MaxUploadBytes)
	}
	of, err := h.claimForm(ctx, c, s.FormID)
	if err != nil {
		return 0, err
	}
	if s.State == ResultFaulted {
		return 0, h.failForm(ctx, of, true)
	}
	return h.finishForm(ctx, of, s)
}

// claimForm finds a processing form, checks that c may submit it and marks
// it busy so that a concurrent second submit is refused.
func (h *Horde) claimForm(ctx context.Context, c Credential, formID string) (*openForm, error) {
	if h.shared() {
		return h.claimFormShared(ctx, c, formID)
	}
	h.mu.Lock()
	of := h.alch.forms[formID]
	if of == nil || of.f.State != FormProcessing {
		h.mu.Unlock()
		return nil, h.closedFormError(ctx, formID)
	}
	defer h.mu.Unlock()
	if err := h.maySubmitForm(c, of.f); err != nil {
		return nil, err
	}
	if of.busy {
		return nil, Errorf(KindConflict, "DuplicateGen", "this form is already being submitted")
	}
	of.busy = true
	return of, nil
}

// maySubmitForm refuses a submit of f by another worker than the one
// processing it. Caller holds h.mu.
func (h *Horde) maySubmitForm(c Credential, f AlchemyForm) error {
	ws := h.workers[f.WorkerID]
	if (c.WorkerID != "" && c.WorkerID != f.WorkerID) || (c.WorkerID == "" && (ws == nil || ws.w.OwnerID != c.User.ID)) {
		return Errorf(KindForbidden, "WrongCredentials", "this form belongs to another worker")
	}
	return nil
}

// closedFormError explains why a form id takes no result.
func (h *Horde) closedFormError(ctx context.Context, formID string) error {
	f, err := h.store.AlchemyForm(ctx, formID)
	switch {
	case notFound(err):
		return NotFoundf("JobNotFound", "no alchemy form has id %s", QuoteInput(formID))
	case err != nil:
		return fmt.Errorf("look up form %s: %w", formID, err)
	case f.State == FormDone:
		return &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "this form was already submitted", Err: ErrDuplicate}
	default:
		return &Error{Kind: KindConflict, Code: "JobNotProcessing", Message: fmt.Sprintf("this form is %s and takes no result", f.State), Err: ErrDuplicate}
	}
}

// releaseForm clears a form's busy mark after a write that changed nothing.
func (h *Horde) releaseForm(of *openForm) {
	h.mu.Lock()
	of.busy = false
	h.mu.Unlock()
}

// finishForm stores a form's result with its ledger entries.
func (h *Horde) finishForm(ctx context.Context, of *openForm, s AlchemySubmission) (int64, error) {
	oi := of.oi
	oi.finishMu.Lock()
	defer oi.finishMu.Unlock()
	now := h.clock.Now()

	h.mu.Lock()
	f := of.f
	ws := h.workers[f.WorkerID]
	owner, paused, trusted := int64(-1), true, false
	if ws != nil {
		owner, paused, trusted = ws.w.OwnerID, ws.w.Paused, ws.w.Trusted
		f.WorkerName = ws.w.Name
	}
	h.mu.Unlock()

	if ImageForm(f.Name) {
		ref, err := h.formImage(ctx, of, s)
		if err != nil {
			h.releaseForm(of)
			return 0, err
		}
		f.BlobRef = ref
	} else {
		text, err := formResult(f.Name, s.Result)
		if err != nil {
			h.releaseForm(of)
			return 0, err
		}
		f.Result = text
	}
	settle := kudos.JobSettlement{
		JobID: f.ID, What: "alchemy", RequesterID: oi.in.UserID, OwnerID: owner,
		Result: kudos.ResultOK, Cost: f.Cost, Charge: f.Cost, Burn: f.Cost - f.Kudos,
		Paused: paused, OwnerTrusted: trusted, At: now,
	}
	pay := h.pay.SettleJob(settle)
	f.State, f.FinishedAt, f.Kudos = FormDone, now, pay.Reward
	fin := AlchemyFinish{Form: f, Entries: pay.Entries, Holds: pay.Holds}
	err := h.store.FinishAlchemyForm(ctx, fin)
	if errors.Is(err, kudos.ErrInsufficient) {
		// The requester fell below their hold (a moderator's adjustment, a
		// transfer that raced): charge what is left above their floor.
		var balance int64
		if balance, err = h.store.Balance(ctx, oi.in.UserID); err == nil {
			settle.Charge = h.pay.Chargeable(oi.in.UserID, balance, settle.Cost)
			pay = h.pay.SettleJob(settle)
			fin.Form.Kudos, fin.Entries, fin.Holds = pay.Reward, pay.Entries, pay.Holds
			h.log.Warn("alchemy requester below their hold; charging what is left above their floor",
				"form", f.ID, "user", oi.in.UserID, "cost", settle.Cost, "charged", pay.Charged)
			err = h.store.FinishAlchemyForm(ctx, fin)
		}
	}
	if duplicate(err) {
		h.mu.Lock()
		of.busy = false
		of.f.State = FormCancelled
		h.closeForm(of)
		h.mu.Unlock()
		return 0, &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "this form was already submitted or is no longer processing", Err: err}
	}
	if err != nil {
		h.releaseForm(of)
		return 0, fmt.Errorf("finish alchemy form %s: %w", f.ID, err)
	}

	h.mu.Lock()
	of.f = fin.Form
	of.busy = false
	h.closeForm(of)
	if ws != nil && h.workers[ws.w.ID] == ws {
		ws.w.Fulfilled++
		ws.w.KudosEarned += pay.Reward
		ws.dropStreak = 0
		// An alchemist's performance is its seconds per form.
		if secs := now.Sub(f.StartedAt).Seconds(); secs > 0 {
			if ws.w.Performance <= 0 {
				ws.w.Performance = secs
			} else {
				ws.w.Performance += performanceWeight * (secs - ws.w.Performance)
			}
		}
		ws.dirty = true
	}
	for _, e := range fin.Entries {
		if b, ok := h.balances[e.UserID]; ok {
			h.balances[e.UserID] = b + e.Delta
		}
	}
	h.mu.Unlock()
	h.noteFinished(f.WorkerID, now)
	return pay.Reward, nil
}

// formResult checks a text form's result: a JSON object that holds the
// form's own key, as clients read it (result.caption, result.nsfw,
// result.interrogation). It returns the object as compact JSON.
func formResult(form, result string) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(result), &obj); err != nil || obj == nil {
		return "", Invalidf("result", "the result must be an object such as {%q: ...}", form)
	}
	v, ok := obj[form]
	if !ok || string(v) == "null" {
		return "", Invalidf("result", "the result of a %s form must hold %q; submit state \"faulted\" if the alchemist produced nothing", form, form)
	}
	switch form {
	case FormNSFW:
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return "", Invalidf("result", "result.nsfw must be true or false")
		}
	case FormCaption:
		var t string
		if json.Unmarshal(v, &t) != nil || strings.TrimSpace(t) == "" {
			return "", Invalidf("result", "result.caption must be a non-empty string")
		}
	case FormInterrogation:
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil {
			return "", Invalidf("result", "result.interrogation must be an object of lists (tags, artists, ...)")
		}
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return "", Invalidf("result", "the result is not valid JSON")
	}
	return string(out), nil
}

// formImage stores an image form's result and returns its blob ref: inline
// bytes, or the upload made to the form's r2_upload. Either must pass
// Config.CheckImage at the source's size (upscalers: a whole multiple).
func (h *Horde) formImage(ctx context.Context, of *openForm, s AlchemySubmission) (string, error) {
	data := s.Image
	var ref string
	switch {
	case len(data) > 0:
	case s.UseUpload:
		var err error
		ref, err = h.store.AlchemyUpload(ctx, of.f.ID)
		if notFound(err) {
			return "", Invalidf("result", "no image was uploaded for this form; PUT it to the form's r2_upload, then submit")
		}
		if err != nil {
			return "", fmt.Errorf("read upload of form %s: %w", of.f.ID, err)
		}
		if h.cfg.CheckImage == nil {
			return ref, nil
		}
		if data, err = h.store.Blob(ctx, ref); err != nil {
			return "", fmt.Errorf("read upload %s of form %s: %w", ref, of.f.ID, err)
		}
	default:
		return "", Invalidf("result", "the result of a %s form must be \"R2\" (after a PUT to its r2_upload) or a base64 image", of.f.Name)
	}
	if h.cfg.CheckImage != nil {
		in := of.oi.in
		if err := h.cfg.CheckImage(data, in.Width, in.Height, FormScale(of.f.Name) > 1); err != nil {
			return "", &Error{Kind: KindInvalid, Field: "result", Message: fmt.Sprintf("the result is refused: %v", err), Err: err}
		}
	}
	if ref != "" {
		return ref, nil
	}
	ref, err := h.store.PutBlob(ctx, data)
	if err != nil {
		return "", fmt.Errorf("store result of form %s: %w", of.f.ID, err)
	}
	return ref, nil
}

// failForm ends a processing form's attempt: faulted by its worker (the
// worker said so) or aborted past its deadline. It waits again, or is
// faulted for good once it failed more than MaxFormAborts times. The
// worker's drop streak grows and may put it into maintenance.
func (h *Horde) failForm(ctx context.Context, of *openForm, byWorker bool) error {
	oi := of.oi
	oi.finishMu.Lock()
	defer oi.finishMu.Unlock()
	now := h.clock.Now()
	h.mu.Lock()
	final := of.f.Aborts >= MaxFormAborts
	h.mu.Unlock()
	err := h.store.FailAlchemyForm(ctx, of.f.ID, of.f.StartedAt, final, now)
	if duplicate(err) {
		h.mu.Lock()
		of.busy = false
		of.f.State = FormCancelled
		h.closeForm(of)
		h.mu.Unlock()
		return &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "this form is no longer processing", Err: err}
	}
	if err != nil {
		h.releaseForm(of)
		return fmt.Errorf("fail alchemy form %s: %w", of.f.ID, err)
	}
	h.mu.Lock()
	var save *Worker
	if ws := h.workers[of.f.WorkerID]; ws != nil {
		ws.w.Dropped++
		ws.dropStreak++
		ws.dirty = true
		if ws.dropStreak >= h.cfg.DropsForMaintenance && !ws.w.Maintenance {
			ws.w.Maintenance = true
			w := ws.snapshot()
			save = &w
			h.log.Warn("alchemist put into maintenance after dropping forms", "worker", ws.w.ID, "name", ws.w.Name, "dropped_in_a_row", ws.dropStreak)
		}
	}
	of.busy = false
	if final {
		of.f.State = FormFaulted
		of.f.FinishedAt = now
		h.closeForm(of)
	} else {
		of.f.State = FormWaiting
		of.f.Aborts++
		of.f.WorkerID, of.f.WorkerName = "", ""
		of.f.StartedAt, of.f.Deadline = time.Time{}, time.Time{}
		oi.activity = now // waiting again: the expiry clock restarts
		if !h.shared() {  // the store put a shared queue's form back
			h.alch.enqueue(of)
		}
	}
	h.mu.Unlock()
	h.log.Info("alchemy form failed", "form", of.f.ID, "interrogation", oi.in.ID, "by_worker", byWorker, "faulted", final)
	if save != nil {
		if err := h.saveWorker(ctx, *save); err != nil {
			h.log.Error("save alchemist put into maintenance", "worker", save.ID, "err", err)
		}
	}
	return nil
}

// abortOverdueForms aborts the processing forms past their deadline.
func (h *Horde) abortOverdueForms(ctx context.Context, now time.Time) error {
	if h.shared() {
		return nil // SweepShared's (alchemy_shared.go)
	}
	h.mu.Lock()
	var overdue []*openForm
	for _, of := range h.alch.forms {
		if of.f.State == FormProcessing && !of.busy && !of.f.Deadline.After(now) {
			of.busy = true
			overdue = append(overdue, of)
		}
	}
	h.mu.Unlock()
	var errs []error
	for _, of := range overdue {
		if err := h.failForm(ctx, of, false); err != nil && !IsKind(err, KindConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AlchemyUploadTarget reports whether formID takes an r2 upload now: a
// processing image form. Unknown: KindNotFound; finished: KindConflict; a
// text form: KindInvalid.
func (h *Horde) AlchemyUploadTarget(ctx context.Context, formID string) error {
	var name string
	processing := false
	if h.shared() {
		f, err := h.store.AlchemyForm(ctx, formID)
		if err != nil && !notFound(err) {
			return fmt.Errorf("read form %s: %w", formID, err)
		}
		name, processing = f.Name, err == nil && f.State == FormProcessing
	} else {
		h.mu.Lock()
		if of := h.alch.forms[formID]; of != nil {
			name, processing = of.f.Name, of.f.State == FormProcessing
		}
		h.mu.Unlock()
	}
	if !processing {
		return h.closedFormError(ctx, formID)
	}
	if !ImageForm(name) {
		return Invalidf("id", "form %s is a %s form, whose result is text", QuoteInput(formID), name)
	}
	return nil
}

// UploadAlchemyFrom streams an alchemist's r2 upload of at most max bytes
// for formID into the blob store and records it for the form's submit
// (result "R2"). Errors as AlchemyUploadTarget's, plus: more than max bytes
// or an empty body is KindInvalid; a full disk KindUnavailable.
func (h *Horde) UploadAlchemyFrom(ctx context.Context, formID string, r io.Reader, max int64) (int64, error) {
	if max <= 0 || max > MaxUploadBytes {
		max = MaxUploadBytes
	}
	if err := h.AlchemyUploadTarget(ctx, formID); err != nil {
		return 0, err
	}
	ref, n, err := h.store.PutBlobFrom(ctx, r, max)
	if err != nil {
		return 0, fmt.Errorf("store upload of form %s: %w", formID, err)
	}
	if n == 0 {
		return 0, Invalidf("image", "the upload is empty")
	}
	err = h.store.SetAlchemyUpload(ctx, formID, ref)
	switch {
	case notFound(err):
		return 0, NotFoundf("JobNotFound", "no alchemy form has id %s", QuoteInput(formID))
	case duplicate(err):
		return 0, &Error{Kind: KindConflict, Code: "JobNotProcessing", Message: "this form is no longer processing", Err: err}
	case err != nil:
		return 0, fmt.Errorf("record upload of form %s: %w", formID, err)
	}
	return n, nil
}
