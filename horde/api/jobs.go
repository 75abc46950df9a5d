package api

import (
	"net/http"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// DecodePop parses and validates a worker's pop body for the given kind.
// The warnings name the fields it did not know.
func DecodePop(kind horde.RequestKind, data []byte) (horde.PopRequest, []string, error) {
	// Decoded over the AI Horde's defaults: what the worker leaves out (or
	// sends as null) keeps them.
	var (
		common  *aihorde.PopCommon
		unknown []string
		err     error
		ib      = aihorde.NewImagePopRequest()
		tb      = aihorde.NewTextPopRequest()
	)
	switch kind {
	case horde.KindImage:
		unknown, err = decodeJSON(data, &ib)
		common = &ib.PopCommon
	case horde.KindText:
		unknown, err = decodeJSON(data, &tb)
		common = &tb.PopCommon
	default:
		return horde.PopRequest{}, nil, horde.Invalidf("", "unknown request kind %q", kind)
	}
	if err != nil {
		return horde.PopRequest{}, nil, err
	}
	var c check
	p := horde.PopRequest{
		Kind:                kind,
		Name:                strings.TrimSpace(common.Name),
		Models:              common.Models,
		NSFW:                common.NSFW,
		Blacklist:           common.Blacklist,
		Threads:             common.Threads,
		Amount:              common.Amount,
		BridgeAgent:         common.BridgeAgent,
		RequireUpfrontKudos: common.RequireUpfrontKudos,
		PriorityUsernames:   common.PriorityUsernames,
		ExtraSlowWorker:     common.ExtraSlowWorker,
	}
	p.Name = c.workerName(p.Name)
	c.list("models", p.Models, aihorde.MaxPopModels, aihorde.MaxNameLength)
	c.list("blacklist", p.Blacklist, aihorde.MaxBlacklist, aihorde.MaxNameLength)
	c.list("priority_usernames", p.PriorityUsernames, aihorde.MaxPriorityUsernames, aihorde.MaxNameLength)
	c.intRange("threads", p.Threads, 1, aihorde.MaxThreads)
	c.intRange("amount", p.Amount, 1, aihorde.MaxPopAmount)
	c.text("bridge_agent", p.BridgeAgent, false, aihorde.MaxBridgeAgentLength)
	switch kind {
	case horde.KindImage:
		p.MaxPixels = ib.MaxPixels
		p.AllowImg2Img = ib.AllowImg2Img
		p.AllowPainting = ib.AllowPainting
		p.AllowPostProcessing = ib.AllowPostProcessing
		p.AllowLora = ib.AllowLora
		p.LimitMaxSteps = ib.LimitMaxSteps
		c.intRange("max_pixels", p.MaxPixels, 0, aihorde.MaxSide*aihorde.MaxSide)
	case horde.KindText:
		p.MaxLength = tb.MaxLength
		p.MaxContextLength = tb.MaxContextLength
		c.intRange("max_length", p.MaxLength, 1, 1<<20)
		c.intRange("max_context_length", p.MaxContextLength, 1, 1<<24)
	}
	if c.err != nil {
		return horde.PopRequest{}, nil, c.err
	}
	return p, unknown, nil
}

// DecodeSubmit parses and validates a worker's result for the given kind.
// An image generation is "R2" (the image was PUT to the job's r2_upload) or
// an inline base64 image (WebP, PNG, JPEG or GIF, kept as sent).
func DecodeSubmit(kind horde.RequestKind, data []byte) (horde.Submission, []string, error) {
	if kind != horde.KindImage && kind != horde.KindText {
		return horde.Submission{}, nil, horde.Invalidf("", "unknown request kind %q", kind)
	}
	b := aihorde.NewSubmitRequest() // decoded over the defaults (state ok)
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.Submission{}, nil, err
	}
	var c check
	sub := horde.Submission{
		Kind:  kind,
		JobID: strings.TrimSpace(b.ID),
		State: b.State,
		Seed:  b.Seed, // stored as given, 0 included
	}
	c.text("id", sub.JobID, true, aihorde.MaxJobIDLength)
	c.oneOf("state", sub.State, horde.ResultOK, horde.ResultCensored, horde.ResultFaulted, horde.ResultCSAM)
	if sub.State == horde.ResultOK && b.Censored {
		sub.State = horde.ResultCensored
	}
	if len(b.GenMetadata) > aihorde.MaxGenMetadata {
		c.fail("gen_metadata", "gen_metadata may have at most %d entries, not %d", aihorde.MaxGenMetadata, len(b.GenMetadata))
	}
	for _, m := range b.GenMetadata {
		c.text("gen_metadata.type", m.Type, true, aihorde.MaxNameLength)
		c.text("gen_metadata.value", m.Value, false, aihorde.MaxNameLength)
		c.text("gen_metadata.ref", m.Ref, false, aihorde.MaxNameLength)
		sub.Metadata = append(sub.Metadata, horde.GenMetadata(m))
	}
	if c.err != nil {
		return horde.Submission{}, nil, c.err
	}
	gen := b.Generation
	switch {
	case sub.State == horde.ResultFaulted:
		// A faulted job has no result; whatever generation says is ignored.
	case kind == horde.KindText:
		sub.Text = gen
	case b.Seed == nil:
		return horde.Submission{}, nil, horde.Invalidf("seed", "seed is required")
	case gen == "R2":
		sub.UseUpload = true
	case gen == "":
		return horde.Submission{}, nil, horde.Invalidf("generation", "generation must be \"R2\" or a base64-encoded image")
	default:
		img, err := decodeBase64Image(gen, "generation")
		if err != nil {
			return horde.Submission{}, nil, err
		}
		sub.Image = img
	}
	return sub, unknown, nil
}

// workerCredential authenticates a worker's pop or submit. Unknown keys are 401; the
// anonymous key may not run a worker (403).
func (s *server) workerCredential(r *http.Request) (horde.Credential, error) {
	c, err := s.authenticate(r)
	if err != nil {
		return horde.Credential{}, err
	}
	if c.User.Anonymous() {
		return horde.Credential{}, horde.Errorf(horde.KindForbidden, "AnonForbiddenWorker", "anonymous users cannot run workers; register and use your own API key")
	}
	return c, nil
}

// decodePop reads, decodes and authenticates a pop. Unknown fields are
// logged, since a pop response has no warnings.
func (s *server) decodePop(w http.ResponseWriter, r *http.Request, kind horde.RequestKind) (horde.Credential, horde.PopRequest, error) {
	data, err := s.readBody(w, r, s.bodyLimit(limitPop))
	if err != nil {
		return horde.Credential{}, horde.PopRequest{}, err
	}
	p, unknown, err := DecodePop(kind, data)
	if err != nil {
		return horde.Credential{}, horde.PopRequest{}, err
	}
	if len(unknown) > 0 {
		s.log.DebugContext(r.Context(), "pop with unknown fields", "worker", p.Name, "fields", unknown)
	}
	c, err := s.workerCredential(r)
	if err != nil {
		return horde.Credential{}, horde.PopRequest{}, err
	}
	return c, p, nil
}

// popAnswer is what a pop hands the worker: its jobs (all of one request),
// what it skipped, and its active worker messages.
type popAnswer struct {
	jobs     []horde.Assignment
	skipped  horde.Skipped
	messages []aihorde.PopMessage
}

// pop decodes, authenticates and runs a worker's pop of the given kind.
func (s *server) pop(w http.ResponseWriter, r *http.Request, kind horde.RequestKind) (popAnswer, error) {
	c, p, err := s.decodePop(w, r, kind)
	if err != nil {
		return popAnswer{}, err
	}
	as, skipped, err := s.h.Pop(r.Context(), c, p)
	if err != nil {
		return popAnswer{}, err
	}
	return popAnswer{jobs: s.oneRequest(r, as), skipped: skipped, messages: s.popMessages(r, p.Name)}, nil
}

// popMessages are the active messages of the worker that popped, as the
// AI Horde's pop answer carries them. The jobs are already started, so a
// failure to read them is logged and the answer goes without.
func (s *server) popMessages(r *http.Request, name string) []aihorde.PopMessage {
	wk, err := s.h.WorkerByName(r.Context(), name)
	if err != nil {
		s.log.WarnContext(r.Context(), "pop: worker not found for its messages", "worker", name, "err", err)
		return nil
	}
	ms, err := s.h.ActiveWorkerMessages(r.Context(), wk.ID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "pop: read worker messages", "worker", wk.ID, "err", err)
		return nil
	}
	out := make([]aihorde.PopMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, aihorde.PopMessage{ID: m.ID, Message: m.Message, Origin: m.Origin, Expiry: m.Expiry.UTC().Format(rfc822)})
	}
	return out
}

// jobIDs lists the assignments' job ids, in order.
func jobIDs(as []horde.Assignment) []string {
	ids := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.Job.ID)
	}
	return ids
}

// oneRequest keeps the assignments that belong to the first one's request:
// a pop response carries one payload, so every id in it must share it.
// horde.Pop promises exactly that; should it ever break the promise, the
// extra jobs are logged and left to their TTL, which re-queues them.
func (s *server) oneRequest(r *http.Request, as []horde.Assignment) []horde.Assignment {
	if len(as) < 2 {
		return as
	}
	keep := as[:0:0]
	for _, a := range as {
		if a.Request.ID == as[0].Request.ID {
			keep = append(keep, a)
		} else {
			s.log.ErrorContext(r.Context(), "pop returned jobs of several requests; dropping the extra job",
				"job", a.Job.ID, "request", a.Request.ID, "first_request", as[0].Request.ID)
		}
	}
	return keep
}

// submit records a worker's result.
func (s *server) submit(w http.ResponseWriter, r *http.Request, kind horde.RequestKind) {
	limit := s.bodyLimit(limitText)
	if kind == horde.KindImage {
		limit = s.inlineSubmitLimit()
	}
	data, err := s.readBody(w, r, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, unknown, err := DecodeSubmit(kind, data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(unknown) > 0 {
		s.log.DebugContext(r.Context(), "submit with unknown fields", "job", sub.JobID, "fields", unknown)
	}
	c, err := s.workerCredential(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reward, err := s.h.SubmitResult(r.Context(), c, sub)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.SubmitResponse{Reward: float64(reward)})
}

// ttlSeconds is a job's TTL in whole seconds.
func ttlSeconds(a horde.Assignment) float64 {
	return float64(int(a.TTL.Seconds()))
}

// skippedOf never returns nil, so that "skipped" is always an object.
func skippedOf(sk horde.Skipped) aihorde.Skipped {
	if sk == nil {
		return aihorde.Skipped{}
	}
	return aihorde.Skipped(sk)
}
