package horde

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/kudos"
)

// Submit validates and queues a request (or only prices it when DryRun).
// Validation failures are KindInvalid naming the field; flagged users are
// KindForbidden. Warnings list things accepted but ignored.
//
// A request the requester cannot afford (its cost, on top of what their
// open requests hold, would take their balance below their floor) is
// KindKudosUpfront; one that would pass their concurrency is
// KindRateLimited "TooManyPrompts" (holds.go). The request is stored before
// it is queued; its priority is the requester's balance now.
func (h *Horde) Submit(ctx context.Context, u User, nr NewRequest) (Request, []string, error) {
	if u.Flagged {
		return Request{}, nil, Errorf(KindForbidden, "UserFlagged", "your account is flagged and may not request generations").InCase("request")
	}
	req, warnings, err := buildRequest(u, nr, h.cfg.Models)
	if err != nil {
		return Request{}, nil, err
	}
	var extras RequestExtras
	if nr.SharedKey != nil {
		if err := nr.SharedKey.admit(req, nr.Style != nil && nr.Style.ByStyleKey); err != nil {
			return Request{}, nil, err
		}
		extras.SharedKey = nr.SharedKey.Hash
	}
	extras.Webhook = nr.Webhook
	extras.Interaction = nr.Interaction
	if st := nr.Style; st != nil {
		extras.StyleID, extras.CollectionID = st.StyleID, st.CollectionID
		if st.OwnerID != u.ID {
			// As on the AI Horde, never for one's own style.
			extras.StyleOwner = st.OwnerID
		}
	}
	if extras != (RequestExtras{}) {
		req.Extras = &extras
	}
	if warnings, err = h.filterPrompt(ctx, u, &req, warnings); err != nil {
		return Request{}, nil, err
	}
	balance, err := h.store.Balance(ctx, u.ID)
	if err != nil {
		return Request{}, nil, fmt.Errorf("read balance of user %d: %w", u.ID, err)
	}
	req.Priority = balance
	if nr.DryRun {
		return req, warnings, nil
	}
	req.ID = newID()
	req.CreatedAt = h.clock.Now()
	req.State = RequestWaiting
	workers := iter.Seq[*workerState](nil)
	if h.shared() {
		// Whether a worker anywhere could serve it, for the warnings.
		v, err := h.sharedWorkers(ctx, req.CreatedAt, sharedWorkersMaxAge)
		if err != nil {
			return Request{}, nil, err
		}
		workers = slices.Values(v.online)
		// Every process's open requests count: the store reads what the
		// member holds and stores the request under the member's lock, so
		// that two submits of one member on two processes at once are
		// checked one after the other.
		a := h.newAdmission(u.ID, req.N, req.Kudos, false)
		if err := h.cfg.Queue.AdmitRequest(ctx, req, a.check); err != nil {
			if IsKind(err, KindRateLimited) || IsKind(err, KindKudosUpfront) {
				return Request{}, nil, err
			}
			return Request{}, nil, fmt.Errorf("store request: %w", err)
		}
	} else {
		// The hold is taken before the write and given back if it fails,
		// so that concurrent requests of one member cannot overdraw
		// together.
		h.mu.Lock()
		err = h.reserve(req, balance)
		h.mu.Unlock()
		if err != nil {
			return Request{}, nil, err
		}
		if err := h.store.CreateRequest(ctx, req); err != nil {
			h.mu.Lock()
			h.hold(req.UserID, -req.N, -req.Kudos)
			h.mu.Unlock()
			return Request{}, nil, fmt.Errorf("store request: %w", err)
		}
	}

	req.Extras = req.Extras.kept()
	h.mu.Lock()
	r := h.newOpenRequest(req)
	r.waiting = len(r.items)
	if h.shared() {
		h.keepParsed(r) // the store queued it; this process may match it soon
	} else {
		h.reqs[req.ID] = r
		h.q.add(r)
	}
	h.balances[u.ID] = balance
	if workers == nil {
		workers = maps.Values(h.workers)
	}
	if w := h.possibleWarning(workers, r, req.CreatedAt); w != "" {
		warnings = append(warnings, w)
	}
	out := r.view()
	h.mu.Unlock()
	h.stats.of(req.Kind).requestsSubmitted.Add(1)
	h.log.Debug("request queued", "request", req.ID, "user", u.ID, "kind", req.Kind, "n", req.N, "kudos", req.Kudos)
	return out, warnings, nil
}

// filterPrompt applies the prompt filter to req: a refused prompt is
// reported to OnRefused and returned as KindInvalid "CorruptPrompt" naming
// the field "prompt", whatever the rule: the AI Horde answers every prompt
// its filter refuses with that rc and a 400 (horde/apis/v2/base.py); the
// verdict given to OnRefused says which rule it was. A rewritten prompt or a
// forced negative prompt replaces req.Prompt with a warning.
func (h *Horde) filterPrompt(ctx context.Context, u User, req *Request, warnings []string) ([]string, error) {
	if h.cfg.Filter == nil {
		return warnings, nil
	}
	v := h.cfg.Filter.Check(req.Prompt, filter.Context{
		NSFWAllowed: req.NSFW,
		Models:      req.Models,
		Text:        req.Kind == KindText,
	})
	if v.Action == filter.Refuse {
		h.log.Info("prompt refused", "user", u.ID, "rule", v.Rule, "matched", v.Matched)
		if h.cfg.OnRefused != nil {
			h.cfg.OnRefused(ctx, u, req.Prompt, v)
		}
		e := &Error{Kind: KindInvalid, Code: CodeCorruptPrompt, Field: "prompt", Message: v.Reason}
		switch v.Rule { // the case a transport words in the member's language
		case filter.RuleCSAM:
			e.Case = "prompt_csam"
		case filter.RuleNSFW:
			e.Case = "prompt_nsfw"
		}
		return nil, e
	}
	if v.Prompt != req.Prompt {
		req.Prompt = v.Prompt
		if v.Reason != "" {
			warnings = append(warnings, v.Reason)
		}
	}
	return warnings, nil
}

// CodeCorruptPrompt is the code (the AI Horde's rc) of a prompt the filter refused.
const CodeCorruptPrompt = "CorruptPrompt"

// CodeInteractionQueued is the code of a request refused because its
// Discord interaction (NewRequest.Interaction) already queued one, or was
// answered without one.
const CodeInteractionQueued = "InteractionQueued"

// buildRequest validates a new request, fills in defaults and prices it.
func buildRequest(u User, nr NewRequest, models *ModelReference) (Request, []string, error) {
	var warnings []string
	req := Request{
		Kind:             nr.Kind,
		UserID:           u.ID,
		Prompt:           strings.TrimSpace(nr.Prompt),
		N:                nr.N,
		NSFW:             nr.NSFW,
		TrustedWorkers:   nr.TrustedWorkers,
		FastWorkersOnly:  nr.FastWorkersOnly,
		ExtraSlowWorkers: nr.ExtraSlowWorkers,
		DisableBatching:  nr.DisableBatching,
		WorkerBlacklist:  nr.WorkerBlacklist,
		R2:               nr.R2,
		Shared:           nr.Shared,
		ClientAgent:      nr.ClientAgent,
		Source:           nr.Source,
		Models:           cleanList(nr.Models),
		Workers:          cleanList(nr.Workers),
	}
	if req.Source == "" {
		req.Source = "api"
	}
	if req.Prompt == "" {
		return Request{}, nil, Invalidf("prompt", "a prompt is required")
	}
	if utf8.RuneCountInString(req.Prompt) > aihorde.MaxPromptLength {
		return Request{}, nil, Invalidf("prompt", "the prompt is longer than %d characters", aihorde.MaxPromptLength)
	}
	if req.N == 0 {
		req.N = 1
	}
	if req.N < aihorde.MinN || req.N > aihorde.MaxN {
		return Request{}, nil, Invalidf("n", "n must be between %d and %d", aihorde.MinN, aihorde.MaxN)
	}
	if len(req.Models) > aihorde.MaxRequestModels {
		return Request{}, nil, Invalidf("models", "at most %d models", aihorde.MaxRequestModels)
	}
	if len(req.Workers) > aihorde.MaxRequestWorkers {
		return Request{}, nil, Invalidf("workers", "at most %d workers", aihorde.MaxRequestWorkers)
	}
	if req.WorkerBlacklist && len(req.Workers) == 0 {
		req.WorkerBlacklist = false
	}
	var itemCost int64
	switch nr.Kind {
	case KindImage:
		if nr.Text != nil {
			warnings = append(warnings, "text parameters ignored on an image request")
		}
		p, w, err := imageParams(nr.Image)
		if err != nil {
			return Request{}, nil, err
		}
		warnings = append(warnings, w...)
		req.Image = p
		var baseline string // one model named: priced by its baseline (SDXL, Flux... cost more)
		if len(req.Models) == 1 {
			baseline = models.Baseline(req.Models[0])
		}
		itemCost = kudos.ImageCost(kudos.ImagePrice{
			Width: p.Width, Height: p.Height, Steps: p.Steps, Sampler: p.SamplerName, HiresFix: p.HiresFix,
			SourceImage: p.SourceImage != "", SourceProcessing: p.SourceProcessing, Denoising: p.DenoisingStrength,
			PostProcessors: p.PostProcessing, Loras: len(p.Loras), WorkerDenyList: req.WorkerBlacklist, FastWorkersOnly: nr.FastWorkersOnly,
			Baseline: baseline, ExtraSourceImages: len(p.ExtraSourceImages),
		}, req.N)
	case KindText:
		if nr.Image != nil {
			warnings = append(warnings, "image parameters ignored on a text request")
		}
		p, err := textParams(nr.Text)
		if err != nil {
			return Request{}, nil, err
		}
		req.Text = p
		itemCost = kudos.TextCost(kudos.TextPrice{
			MaxLength: p.MaxLength, MaxContextLength: p.MaxContextLength, PromptChars: utf8.RuneCountInString(req.Prompt),
		}, req.N)
	default:
		return Request{}, nil, Invalidf("kind", "unknown request kind %q", nr.Kind)
	}
	req.Kudos = itemCost * int64(req.N)
	return req, warnings, nil
}

// imageParams copies, defaults and validates image parameters.
func imageParams(in *ImageParams) (*ImageParams, []string, error) {
	var p ImageParams
	if in != nil {
		p = *in
		p.PostProcessing = slices.Clone(in.PostProcessing)
		p.Loras = slices.Clone(in.Loras)
		p.ExtraSourceImages = slices.Clone(in.ExtraSourceImages)
	}
	var warnings []string
	if p.Width == 0 {
		p.Width = aihorde.DefaultWidth
	}
	if p.Height == 0 {
		p.Height = aihorde.DefaultHeight
	}
	if p.Steps == 0 {
		p.Steps = aihorde.DefaultSteps
	}
	if p.CFGScale == 0 {
		p.CFGScale = aihorde.DefaultCFGScale
	}
	if p.SamplerName == "" {
		p.SamplerName = aihorde.DefaultSampler
	}
	for _, side := range []struct {
		name string
		v    int
	}{{"width", p.Width}, {"height", p.Height}} {
		if side.v < aihorde.MinSide || side.v > aihorde.MaxSide || side.v%aihorde.SideMultiple != 0 {
			return nil, nil, Invalidf(side.name, "%s must be a multiple of %d between %d and %d", side.name, aihorde.SideMultiple, aihorde.MinSide, aihorde.MaxSide)
		}
	}
	if p.Steps < aihorde.MinSteps || p.Steps > aihorde.MaxSteps {
		return nil, nil, Invalidf("steps", "steps must be between %d and %d", aihorde.MinSteps, aihorde.MaxSteps)
	}
	if p.CFGScale < aihorde.MinCFGScale || p.CFGScale > aihorde.MaxCFGScale {
		return nil, nil, Invalidf("cfg_scale", "cfg_scale must be between %g and %g", aihorde.MinCFGScale, aihorde.MaxCFGScale)
	}
	// Zero is "not set": the worker's payload then carries aihorde.DefaultDenoisingStrength.
	if p.DenoisingStrength != 0 && (p.DenoisingStrength < aihorde.MinDenoisingStrength || p.DenoisingStrength > aihorde.MaxDenoisingStrength) {
		return nil, nil, Invalidf("denoising_strength", "denoising_strength must be between %g and %g",
			aihorde.MinDenoisingStrength, aihorde.MaxDenoisingStrength)
	}
	switch p.SourceProcessing {
	case "", "txt2img", "img2img", "remix":
	case "inpainting", "outpainting":
		if p.SourceImage == "" {
			return nil, nil, Invalidf("source_image", "%s needs a source image", p.SourceProcessing)
		}
	default:
		return nil, nil, Invalidf("source_processing", "unknown source_processing %q", p.SourceProcessing)
	}
	if p.SourceProcessing == "txt2img" && p.SourceImage != "" {
		p.SourceImage, p.SourceMask = "", ""
		warnings = append(warnings, "source_image ignored for txt2img")
	}
	if len(p.Loras) > aihorde.MaxLoras {
		return nil, nil, Invalidf("loras", "at most %d loras", aihorde.MaxLoras)
	}
	for _, l := range p.Loras {
		if strings.TrimSpace(l.Name) == "" {
			return nil, nil, Invalidf("loras", "a lora needs a name")
		}
	}
	if len(p.PostProcessing) > aihorde.MaxPostProcessors {
		return nil, nil, Invalidf("post_processing", "at most %d post-processors", aihorde.MaxPostProcessors)
	}
	if len(p.Seed) > aihorde.MaxSeedLength {
		return nil, nil, Invalidf("seed", "the seed is longer than %d characters", aihorde.MaxSeedLength)
	}
	if strings.TrimSpace(p.Seed) == "" {
		// Chosen now and stored, so that a restart gives the same seeds.
		p.Seed = randomSeed()
	}
	return &p, warnings, nil
}

// textParams copies, defaults and validates text parameters.
func textParams(in *TextParams) (*TextParams, error) {
	var p TextParams
	if in != nil {
		p = *in
		p.StopSequence = slices.Clone(in.StopSequence)
		p.SamplerOrder = slices.Clone(in.SamplerOrder)
	}
	if p.MaxLength == 0 {
		p.MaxLength = aihorde.DefaultMaxLength
	}
	if p.MaxContextLength == 0 {
		p.MaxContextLength = aihorde.DefaultMaxContextLength
	}
	if p.MaxLength < aihorde.MinMaxLength || p.MaxLength > aihorde.MaxMaxLength {
		return nil, Invalidf("max_length", "max_length must be between %d and %d", aihorde.MinMaxLength, aihorde.MaxMaxLength)
	}
	if p.MaxContextLength < aihorde.MinMaxContextLength || p.MaxContextLength > aihorde.MaxMaxContextLength {
		return nil, Invalidf("max_context_length", "max_context_length must be between %d and %d", aihorde.MinMaxContextLength, aihorde.MaxMaxContextLength)
	}
	return &p, nil
}

// Check returns the progress of a request; KindNotFound if unknown.
func (h *Horde) Check(ctx context.Context, id string) (Progress, error) {
	now := h.clock.Now()
	h.mu.Lock()
	if r := h.reqs[id]; r != nil {
		p := h.progress(r, now)
		waiting := r.waiting > 0
		h.mu.Unlock()
		if waiting {
			p.QueuePosition, p.WaitTime = h.queueEstimate(r, now)
		}
		return p, nil
	}
	h.mu.Unlock()
	p, jobs, err := h.storedProgress(ctx, id)
	if err == nil && h.shared() && !p.Done {
		err = h.sharedProgress(ctx, &p, jobs, now)
	}
	if err != nil {
		return Progress{}, err
	}
	return p, nil
}

// progress is the view of an open request. Caller holds h.mu.
func (h *Horde) progress(r *openRequest, now time.Time) Progress {
	return Progress{
		Request:    r.view(),
		Finished:   r.done,
		Processing: r.processing,
		Restarted:  r.restarted,
		Waiting:    r.waiting,
		IsPossible: h.possible(r, now),
		Kudos:      r.itemCost * int64(r.done),
		WaitTime:   h.processingWait(r, now),
	}
}

// storedProgress is the view of a request from the store (a finished
// one, or one of the shared queue), with its jobs.
func (h *Horde) storedProgress(ctx context.Context, id string) (Progress, []Job, error) {
	req, err := h.store.Request(ctx, id)
	if notFound(err) {
		return Progress{}, nil, NotFoundf("RequestNotFound", "no request has id %s", id)
	}
	if err != nil {
		return Progress{}, nil, fmt.Errorf("read request %s: %w", id, err)
	}
	jobs, err := h.store.Jobs(ctx, id)
	if err != nil {
		return Progress{}, nil, fmt.Errorf("read jobs of request %s: %w", id, err)
	}
	p := Progress{Request: req, IsPossible: true, Done: req.State.Finished(), Faulted: req.State == RequestFaulted}
	for _, j := range jobs {
		switch j.State {
		case JobDone:
			p.Finished++
		case JobProcessing:
			p.Processing++
		case JobAborted, JobFaulted:
			p.Restarted++
		}
	}
	if req.N > 0 {
		p.Kudos = (req.Kudos / int64(req.N)) * int64(p.Finished)
	}
	if !p.Done {
		// Open in the store but not in memory: only between a write and its
		// bookkeeping; report it as waiting.
		p.Waiting = max(req.N-p.Finished-p.Processing, 0)
	}
	return p, jobs, nil
}

// Status returns the progress and the generations of a request.
func (h *Horde) Status(ctx context.Context, id string) (Progress, []Generation, error) {
	p, err := h.Check(ctx, id)
	if err != nil {
		return Progress{}, nil, err
	}
	gens, err := h.store.Generations(ctx, id)
	if err != nil {
		return Progress{}, nil, fmt.Errorf("read generations of request %s: %w", id, err)
	}
	return p, gens, nil
}

// Cancel cancels a request (what is done stays done) and returns its final status.
// Cancelling a finished request changes nothing.
func (h *Horde) Cancel(ctx context.Context, id string) (Progress, []Generation, error) {
	h.mu.Lock()
	r := h.reqs[id]
	h.mu.Unlock()
	switch {
	case r != nil:
		if err := h.cancel(ctx, r); err != nil {
			return Progress{}, nil, err
		}
	case h.shared():
		if err := h.cancelShared(ctx, id); err != nil {
			return Progress{}, nil, err
		}
	}
	return h.Status(ctx, id)
}

func (h *Horde) cancel(ctx context.Context, r *openRequest) error {
	r.finishMu.Lock()
	defer r.finishMu.Unlock()
	h.mu.Lock()
	if h.reqs[r.req.ID] != r || r.ending {
		h.mu.Unlock()
		return nil // finished meanwhile
	}
	r.ending = true
	h.q.remove(r)
	h.mu.Unlock()
	return h.endRequest(ctx, r, RequestCancelled, "cancelled by the requester")
}
