package api

import (
	"net/http"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// popCommon is what every worker sends on pop.
type popCommon struct {
	Name                *string  `json:"name"`
	PriorityUsernames   []string `json:"priority_usernames"`
	NSFW                *bool    `json:"nsfw"`
	Models              []string `json:"models"`
	BridgeVersion       *int     `json:"bridge_version"`
	BridgeAgent         *string  `json:"bridge_agent"`
	Threads             *int     `json:"threads"`
	RequireUpfrontKudos *bool    `json:"require_upfront_kudos"`
	Amount              *int     `json:"amount"`
	ExtraSlowWorker     *bool    `json:"extra_slow_worker"`
	Blacklist           []string `json:"blacklist"`
}

// imagePopBody is the body of POST /generate/pop.
type imagePopBody struct {
	popCommon
	MaxPixels           *int  `json:"max_pixels"`
	AllowImg2Img        *bool `json:"allow_img2img"`
	AllowPainting       *bool `json:"allow_painting"`
	AllowUnsafeIPAddr   *bool `json:"allow_unsafe_ipaddr"`
	AllowUnsafeIP       *bool `json:"allow_unsafe_ip"` // what older workers send
	AllowPostProcessing *bool `json:"allow_post_processing"`
	AllowControlnet     *bool `json:"allow_controlnet"`
	AllowSDXLControlnet *bool `json:"allow_sdxl_controlnet"`
	AllowLora           *bool `json:"allow_lora"`
	LimitMaxSteps       *bool `json:"limit_max_steps"`
}

// textPopBody is the body of POST /generate/text/pop.
type textPopBody struct {
	popCommon
	MaxLength        *int     `json:"max_length"`
	MaxContextLength *int     `json:"max_context_length"`
	Softprompts      []string `json:"softprompts"`
}

// DecodePop parses and validates a worker's pop body for the given kind.
// The warnings name the fields it did not know.
func DecodePop(kind horde.RequestKind, data []byte) (horde.PopRequest, []string, error) {
	var (
		common  *popCommon
		unknown []string
		err     error
		ib      imagePopBody
		tb      textPopBody
	)
	switch kind {
	case horde.KindImage:
		unknown, err = decodeJSON(data, &ib)
		common = &ib.popCommon
	case horde.KindText:
		unknown, err = decodeJSON(data, &tb)
		common = &tb.popCommon
	default:
		return horde.PopRequest{}, nil, horde.Invalidf("", "unknown request kind %q", kind)
	}
	if err != nil {
		return horde.PopRequest{}, nil, err
	}
	var c check
	p := horde.PopRequest{
		Kind:                kind,
		Name:                strings.TrimSpace(valueOr(common.Name, "")),
		Models:              common.Models,
		NSFW:                valueOr(common.NSFW, false),
		Blacklist:           common.Blacklist,
		Threads:             valueOr(common.Threads, aihorde.DefaultThreads),
		Amount:              valueOr(common.Amount, aihorde.DefaultPopAmount),
		BridgeAgent:         valueOr(common.BridgeAgent, aihorde.DefaultBridgeAgent),
		RequireUpfrontKudos: valueOr(common.RequireUpfrontKudos, false),
		PriorityUsernames:   common.PriorityUsernames,
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
		p.MaxPixels = valueOr(ib.MaxPixels, aihorde.DefaultMaxPixels)
		p.AllowImg2Img = valueOr(ib.AllowImg2Img, true)
		p.AllowPainting = valueOr(ib.AllowPainting, true)
		p.AllowPostProcessing = valueOr(ib.AllowPostProcessing, true)
		p.AllowLora = valueOr(ib.AllowLora, false)
		c.intRange("max_pixels", p.MaxPixels, 0, aihorde.MaxSide*aihorde.MaxSide)
	case horde.KindText:
		p.MaxLength = valueOr(tb.MaxLength, aihorde.DefaultWorkerMaxLength)
		p.MaxContextLength = valueOr(tb.MaxContextLength, aihorde.DefaultWorkerMaxContextLength)
		c.intRange("max_length", p.MaxLength, 1, 1<<20)
		c.intRange("max_context_length", p.MaxContextLength, 1, 1<<24)
	}
	if c.err != nil {
		return horde.PopRequest{}, nil, c.err
	}
	return p, unknown, nil
}

// submitBody is the body of POST /generate/submit and /generate/text/submit.
type submitBody struct {
	ID          *string           `json:"id"`
	Generation  *string           `json:"generation"`
	State       *string           `json:"state"`
	Seed        *int64            `json:"seed"`
	Censored    *bool             `json:"censored"`
	GenMetadata []genMetadataJSON `json:"gen_metadata"`
}

// DecodeSubmit parses and validates a worker's result for the given kind.
// An image generation is "R2" (the image was PUT to the job's r2_upload) or
// an inline base64 image (WebP, PNG, JPEG or GIF, kept as sent).
func DecodeSubmit(kind horde.RequestKind, data []byte) (horde.Submission, []string, error) {
	if kind != horde.KindImage && kind != horde.KindText {
		return horde.Submission{}, nil, horde.Invalidf("", "unknown request kind %q", kind)
	}
	var b submitBody
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.Submission{}, nil, err
	}
	var c check
	sub := horde.Submission{
		Kind:  kind,
		JobID: strings.TrimSpace(valueOr(b.ID, "")),
		State: valueOr(b.State, horde.ResultOK),
		Seed:  valueOr(b.Seed, 0),
	}
	c.text("id", sub.JobID, true, aihorde.MaxJobIDLength)
	c.oneOf("state", sub.State, horde.ResultOK, horde.ResultCensored, horde.ResultFaulted, horde.ResultCSAM)
	if sub.State == horde.ResultOK && valueOr(b.Censored, false) {
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
	gen := valueOr(b.Generation, "")
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

// pop decodes, authenticates and runs a worker's pop of the given kind. The
// assignments it returns all belong to one request.
func (s *server) pop(w http.ResponseWriter, r *http.Request, kind horde.RequestKind) ([]horde.Assignment, horde.Skipped, error) {
	c, p, err := s.decodePop(w, r, kind)
	if err != nil {
		return nil, nil, err
	}
	as, skipped, err := s.h.Pop(r.Context(), c, p)
	if err != nil {
		return nil, nil, err
	}
	return s.oneRequest(r, as), skipped, nil
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

// submitResponse is the answer to a submit.
type submitResponse struct {
	Reward int64 `json:"reward"`
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
	s.ok(w, submitResponse{Reward: reward})
}

// ttlSeconds is a job's TTL in whole seconds.
func ttlSeconds(a horde.Assignment) int {
	return int(a.TTL.Seconds())
}

// skippedOf never returns nil, so that "skipped" is always an object.
func skippedOf(sk horde.Skipped) horde.Skipped {
	if sk == nil {
		return horde.Skipped{}
	}
	return sk
}
