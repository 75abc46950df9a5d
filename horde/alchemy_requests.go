package horde

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Interrogate validates and queues an alchemy request. An unknown form is
// KindInvalid naming "forms" (code UnsupportedForm); a repeated form is
// asked once, as on the AI Horde; a source of more than MaxAlchemyTiles
// tiles is KindInvalid "SourceImageResolutionExceeded". The forms' cost is
// held against the requester like an image request's (KindKudosUpfront when
// it does not fit their floor), and more open forms than their alchemy
// concurrency is KindRateLimited "TooManyPrompts". The source image is
// stored in the blob store and the interrogation durably before it is
// queued.
func (h *Horde) Interrogate(ctx context.Context, u User, ni NewInterrogation) (Interrogation, error) {
	if u.Flagged {
		return Interrogation{}, Errorf(KindForbidden, "UserFlagged", "your account is flagged and may not request alchemy").InCase("alchemy")
	}
	forms, err := newForms(ni.Forms)
	if err != nil {
		return Interrogation{}, err
	}
	if len(ni.Source) == 0 {
		return Interrogation{}, Invalidf("source_image", "a source image is required")
	}
	if ni.Width <= 0 || ni.Height <= 0 {
		return Interrogation{}, &Error{Kind: KindInvalid, Code: "SourceImageUnreadable", Field: "source_image",
			Message: "the source image has no size"}
	}
	tiles := Tiles(ni.Width, ni.Height)
	if tiles > MaxAlchemyTiles {
		return Interrogation{}, &Error{Kind: KindInvalid, Code: "SourceImageResolutionExceeded", Field: "source_image",
			Message: fmt.Sprintf("the source image is too large (%d tiles of 512x512, at most %d) and would cause alchemists to run out of memory", tiles, MaxAlchemyTiles)}
	}
	in := Interrogation{
		UserID: u.ID, Width: ni.Width, Height: ni.Height, Tiles: tiles,
		TrustedWorkers: ni.TrustedWorkers, SlowWorkers: ni.SlowWorkers,
		ClientAgent: ni.ClientAgent, Source: ni.Origin, Interaction: ni.Interaction,
	}
	if in.Source == "" {
		in.Source = "api"
	}
	var cost int64
	for i, nf := range forms {
		f := AlchemyForm{
			Index: i, Name: nf.Name, Payload: nf.Payload, State: FormWaiting,
			Kudos: FormReward(nf.Name, tiles),
		}
		f.Cost = f.Kudos + AlchemyBurn(in.SlowWorkers)
		cost += f.Cost
		in.Forms = append(in.Forms, f)
	}
	balance, err := h.store.Balance(ctx, u.ID)
	if err != nil {
		return Interrogation{}, fmt.Errorf("read balance of user %d: %w", u.ID, err)
	}
	in.Priority = balance
	if h.shared() {
		if err := h.interrogateShared(ctx, &in, ni.Source, cost); err != nil {
			return Interrogation{}, err
		}
		in.Interaction = "" // linked by the write; not kept
		h.log.Debug("interrogation queued", "interrogation", in.ID, "user", u.ID, "forms", len(in.Forms), "kudos", cost)
		return in, nil
	}
	h.mu.Lock()
	err = h.reserveForms(u.ID, len(in.Forms), cost, balance)
	h.mu.Unlock()
	if err != nil {
		return Interrogation{}, err
	}
	unhold := func() {
		h.mu.Lock()
		h.holdForms(u.ID, -len(in.Forms), -cost)
		h.mu.Unlock()
	}
	ref, err := h.store.PutBlob(ctx, ni.Source)
	if err != nil {
		unhold()
		return Interrogation{}, fmt.Errorf("store source image: %w", err)
	}
	in.SourceRef = ref
	h.identify(&in)
	if err := h.store.CreateInterrogation(ctx, in); err != nil {
		unhold()
		return Interrogation{}, fmt.Errorf("store interrogation: %w", err)
	}
	in.Interaction = "" // linked by the write; not kept
	h.mu.Lock()
	h.holdForms(u.ID, -len(in.Forms), -cost) // addInterrogation holds each form
	h.addInterrogation(in)
	h.mu.Unlock()
	h.log.Debug("interrogation queued", "interrogation", in.ID, "user", u.ID, "forms", len(in.Forms), "kudos", cost)
	return in, nil
}

// identify gives a new interrogation and its forms their ids and its
// submit time.
func (h *Horde) identify(in *Interrogation) {
	in.ID = newID()
	in.CreatedAt = h.clock.Now()
	for i := range in.Forms {
		in.Forms[i].ID = newID()
		in.Forms[i].InterrogationID = in.ID
	}
}

// newForms validates the requested forms, dropping repeats.
func newForms(in []NewForm) ([]NewForm, error) {
	var out []NewForm
	seen := make(map[string]bool)
	for _, nf := range in {
		nf.Name = strings.TrimSpace(nf.Name)
		if !KnownForm(nf.Name) {
			return nil, &Error{Kind: KindInvalid, Code: "UnsupportedForm", Field: "forms",
				Message: fmt.Sprintf("this horde's alchemists do not serve the form %s; they serve %s",
					QuoteInput(nf.Name), strings.Join(AlchemyForms(), ", "))}
		}
		if len(nf.Payload) > MaxFormPayloadKeys {
			return nil, Invalidf("forms", "a form's payload may have at most %d keys", MaxFormPayloadKeys)
		}
		if seen[nf.Name] {
			continue
		}
		seen[nf.Name] = true
		out = append(out, nf)
	}
	if len(out) == 0 {
		return nil, Invalidf("forms", "at least one form is required")
	}
	return out, nil
}

// InterrogationStatus returns an interrogation with its forms and their
// results; KindNotFound "RequestNotFound" if unknown.
func (h *Horde) InterrogationStatus(ctx context.Context, id string) (Interrogation, error) {
	in, err := h.store.Interrogation(ctx, id)
	if notFound(err) {
		return Interrogation{}, NotFoundf("RequestNotFound", "no interrogation has id %s", QuoteInput(id))
	}
	if err != nil {
		return Interrogation{}, fmt.Errorf("read interrogation %s: %w", id, err)
	}
	return in, nil
}

// CancelInterrogation cancels an interrogation's waiting and processing
// forms (what is done stays done, and an alchemist's later submit of a
// cancelled form is refused and earns nothing) and returns its status.
// Cancelling a finished interrogation changes nothing.
func (h *Horde) CancelInterrogation(ctx context.Context, id string) (Interrogation, error) {
	if h.shared() {
		return h.cancelInterrogationShared(ctx, id)
	}
	h.mu.Lock()
	oi := h.alch.reqs[id]
	h.mu.Unlock()
	if oi != nil {
		if err := h.endInterrogation(ctx, oi, FormCancelled, "cancelled by the requester"); err != nil {
			return Interrogation{}, err
		}
	}
	return h.InterrogationStatus(ctx, id)
}

// endInterrogation gives an open interrogation's open forms the final
// state (cancelled, or faulted when it expired).
func (h *Horde) endInterrogation(ctx context.Context, oi *openInterrogation, state FormState, reason string) error {
	oi.finishMu.Lock()
	defer oi.finishMu.Unlock()
	h.mu.Lock()
	if h.alch.reqs[oi.in.ID] != oi || oi.ending {
		h.mu.Unlock()
		return nil
	}
	if _, p := oi.open(); state == FormFaulted && p > 0 {
		h.mu.Unlock()
		return nil // popped meanwhile: not expired
	}
	oi.ending = true
	for _, of := range oi.forms {
		h.alch.dequeue(of)
	}
	h.mu.Unlock()
	err := h.store.EndInterrogation(ctx, oi.in.ID, state, h.clock.Now())

	h.mu.Lock()
	defer h.mu.Unlock()
	oi.ending = false
	if err != nil {
		for _, of := range oi.forms {
			h.alch.enqueue(of)
		}
		return fmt.Errorf("end interrogation %s as %s: %w", oi.in.ID, state, err)
	}
	for _, of := range oi.forms {
		if !of.f.State.Finished() {
			of.f.State = state
			h.closeForm(of)
		}
	}
	delete(h.alch.reqs, oi.in.ID)
	h.log.Info("interrogation ended", "interrogation", oi.in.ID, "state", state, "reason", reason)
	return nil
}

// expireInterrogations faults the waiting forms of interrogations none of
// whose forms was popped for ExpireAfter and none is processing.
func (h *Horde) expireInterrogations(ctx context.Context, now time.Time) error {
	if h.shared() {
		return nil // SweepShared's (alchemy_shared.go)
	}
	cutoff := now.Add(-ExpireAfter)
	h.mu.Lock()
	var stale []*openInterrogation
	for _, oi := range h.alch.reqs {
		if w, p := oi.open(); w > 0 && p == 0 && !oi.activity.After(cutoff) {
			stale = append(stale, oi)
		}
	}
	h.mu.Unlock()
	var errs []error
	for _, oi := range stale {
		if err := h.endInterrogation(ctx, oi, FormFaulted, "expired: no alchemist took it"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
