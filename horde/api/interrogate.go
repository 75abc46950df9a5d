package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The alchemy routes, as the AI Horde has them (horde/apis/v2/stable.py:
// Interrogate, InterrogationStatus, InterrogatePop, InterrogateSubmit).
// A request is 202 {id}; status and cancel need no key (the id is the
// secret); pop and submit are the alchemist's. The source image is read
// here (source_image.go) and stored; alchemists download it from this
// server's /results link and PUT image results to /r2/alchemy/{form}.webp.

// maxPayloadValue bounds one value of a form's payload.
const maxPayloadValue = 1000

// DecodeInterrogation parses and validates the body of POST
// /interrogate/async, leaving source_image unread (the caller reads it:
// readSourceImage). It also returns the fields it ignored.
func DecodeInterrogation(data []byte) (aihorde.InterrogationRequest, horde.NewInterrogation, []string, error) {
	b := aihorde.NewInterrogationRequest() // decoded over the defaults (slow_workers true)
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return b, horde.NewInterrogation{}, nil, err
	}
	ig := ignored(unknown)
	var c check
	if len(b.Forms) == 0 {
		c.fail("forms", "forms must name at least one form (caption, interrogation, nsfw, or a post-processor)")
	}
	if len(b.Forms) > maxInterrogationForms {
		c.fail("forms", "forms may have at most %d entries, not %d", maxInterrogationForms, len(b.Forms))
	}
	ni := horde.NewInterrogation{TrustedWorkers: b.TrustedWorkers, SlowWorkers: b.SlowWorkers}
	for _, f := range b.Forms {
		c.text("forms.name", f.Name, true, aihorde.MaxNameLength)
		if len(f.Payload) > horde.MaxFormPayloadKeys {
			c.fail("forms.payload", "a form's payload may have at most %d keys", horde.MaxFormPayloadKeys)
		}
		for k, v := range f.Payload {
			c.text("forms.payload", k, true, aihorde.MaxNameLength)
			c.text("forms.payload", v, false, maxPayloadValue)
		}
		ni.Forms = append(ni.Forms, horde.NewForm{Name: strings.TrimSpace(f.Name), Payload: f.Payload})
	}
	if b.Webhook != "" && !strings.HasPrefix(b.Webhook, "https://") {
		c.fail("webhook", "webhooks need to point to an https endpoint")
	}
	c.text("webhook", b.Webhook, false, 1024)
	if c.err != nil {
		return b, horde.NewInterrogation{}, nil, c.err
	}
	ig.add(b.ExtraSlowWorkers, "extra_slow_workers")
	ig.add(b.Webhook != "", "webhook")
	return b, ni, ig, nil
}

func (s *server) interrogateAsync(w http.ResponseWriter, r *http.Request) {
	data, err := s.readBody(w, r, s.opt.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, ni, ig, err := DecodeInterrogation(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	src, err := s.readSourceImage(r, b.SourceImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ni.Source, ni.Width, ni.Height = src.data, src.width, src.height
	ni.ClientAgent, ni.Origin = clientAgent(r), "api"
	in, err := s.h.Interrogate(r.Context(), u, ni)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := aihorde.InterrogationAsyncResponse{ID: in.ID}
	for _, f := range in.Forms {
		out.Kudos += float64(f.Cost)
	}
	if b.Webhook != "" {
		out.Message = "webhook ignored: this horde does not call webhooks for alchemy; poll /v2/interrogate/status/{id}"
	}
	if len(ig) > 0 {
		s.log.DebugContext(r.Context(), "interrogation with ignored fields", "fields", ig)
	}
	writeJSON(w, s.log, http.StatusAccepted, out)
}

func (s *server) interrogateStatus(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "RequestNotFound", "interrogation")
	if err == nil {
		var in horde.Interrogation
		if in, err = s.h.InterrogationStatus(r.Context(), id); err == nil {
			s.ok(w, s.interrogationStatusOf(r, in))
			return
		}
	}
	s.writeError(w, r, err)
}

func (s *server) interrogateCancel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "RequestNotFound", "interrogation")
	if err == nil {
		var in horde.Interrogation
		if in, err = s.h.CancelInterrogation(r.Context(), id); err == nil {
			s.ok(w, s.interrogationStatusOf(r, in))
			return
		}
	}
	s.writeError(w, r, err)
}

// interrogationStatusOf is the AI Horde's status of an interrogation: a
// done text form's result as its alchemist sent it, a done image form's as
// {form: the image's URL}.
func (s *server) interrogationStatusOf(r *http.Request, in horde.Interrogation) aihorde.InterrogationStatus {
	out := aihorde.InterrogationStatus{State: in.State(), Forms: []aihorde.InterrogationFormStatus{}}
	base := s.baseURL(r)
	for _, f := range in.Forms {
		fs := aihorde.InterrogationFormStatus{Form: f.Name, State: string(f.State)}
		if f.State == horde.FormDone {
			switch {
			case f.BlobRef != "":
				fs.Result, _ = json.Marshal(map[string]string{f.Name: s.resultLink(r, base, f.BlobRef)})
			case f.Result != "":
				fs.Result = json.RawMessage(f.Result)
			}
		}
		out.Forms = append(out.Forms, fs)
	}
	return out
}

// DecodeAlchemyPop parses and validates an alchemist's pop. The warnings
// name the fields it did not know.
func DecodeAlchemyPop(data []byte) (horde.AlchemyPop, []string, error) {
	b := aihorde.NewInterrogationPopRequest()
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.AlchemyPop{}, nil, err
	}
	var c check
	p := horde.AlchemyPop{
		Name: c.workerName(strings.TrimSpace(b.Name)), Forms: b.Forms, Amount: b.Amount,
		Threads: b.Threads, MaxTiles: b.MaxTiles, BridgeAgent: b.BridgeAgent, PriorityUsernames: b.PriorityUsernames,
	}
	c.list("forms", p.Forms, aihorde.MaxPopModels, aihorde.MaxNameLength)
	c.list("priority_usernames", p.PriorityUsernames, aihorde.MaxPriorityUsernames, aihorde.MaxNameLength)
	for _, u := range p.PriorityUsernames {
		if !strings.Contains(u, "#") {
			c.failRC("InvalidPriorityUsername", "priority_usernames",
				"priority usernames need to be provided in the form of 'alias#number', e.g. 'db0#1'")
		}
	}
	c.intRange("threads", p.Threads, 1, aihorde.MaxThreads)
	c.intRange("amount", p.Amount, 1, aihorde.MaxPopAmount)
	c.intRange("max_tiles", p.MaxTiles, 1, aihorde.MaxTiles)
	c.text("bridge_agent", p.BridgeAgent, false, aihorde.MaxBridgeAgentLength)
	if c.err != nil {
		return horde.AlchemyPop{}, nil, c.err
	}
	return p, unknown, nil
}

func (s *server) interrogatePop(w http.ResponseWriter, r *http.Request) {
	data, err := s.readBody(w, r, s.bodyLimit(limitPop))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, unknown, err := DecodeAlchemyPop(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(unknown) > 0 {
		s.log.DebugContext(r.Context(), "alchemy pop with unknown fields", "worker", p.Name, "fields", unknown)
	}
	c, err := s.workerCredential(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	as, skipped, err := s.h.PopAlchemy(r.Context(), c, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// skipped has the AI Horde's keys (NoValidInterrogationsFound) only.
	out := aihorde.InterrogationPopResponse{Forms: []aihorde.InterrogationPopForm{}, Skipped: map[string]int{}}
	for _, k := range []string{horde.SkipWorkerID, horde.SkipUntrusted} {
		if n := skipped[k]; n > 0 {
			out.Skipped[k] = n
		}
	}
	base := s.baseURL(r)
	for _, a := range as {
		pf := aihorde.InterrogationPopForm{
			ID: a.Form.ID, Form: a.Form.Name, Payload: a.Form.Payload,
			SourceImage: s.resultLink(r, base, a.SourceRef),
		}
		if horde.ImageForm(a.Form.Name) {
			pf.R2Upload = alchemyUploadURL(base, a.Form.ID)
		}
		out.Forms = append(out.Forms, pf)
	}
	s.ok(w, out)
}

// alchemyUploadURL is the r2_upload target of an image form.
func alchemyUploadURL(base, formID string) string {
	return base + Prefix + "/r2/alchemy/" + url.PathEscape(formID) + ".webp"
}

// DecodeAlchemySubmit parses and validates an alchemist's submit. For an
// image form's key (a post-processor's name) the result value is "R2" (the
// image was PUT to its r2_upload) or an inline base64 image. A faulted
// submit needs no result (AI-Horde-Worker sends none).
func DecodeAlchemySubmit(data []byte) (horde.AlchemySubmission, []string, error) {
	var b aihorde.InterrogationSubmit
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.AlchemySubmission{}, nil, err
	}
	var c check
	sub := horde.AlchemySubmission{FormID: strings.TrimSpace(b.ID), State: b.State}
	if sub.State == "" {
		sub.State = horde.ResultOK
	}
	c.text("id", sub.FormID, true, aihorde.MaxJobIDLength)
	c.oneOf("state", sub.State, horde.ResultOK, horde.ResultCensored, horde.ResultFaulted, horde.ResultCSAM)
	if c.err != nil {
		return horde.AlchemySubmission{}, nil, c.err
	}
	if sub.State == horde.ResultFaulted {
		return sub, unknown, nil
	}
	if len(b.Result) == 0 {
		return horde.AlchemySubmission{}, nil, horde.Invalidf("result", "result must be an object keyed by the form's name, e.g. {\"caption\": \"...\"}")
	}
	raw, err := json.Marshal(b.Result)
	if err != nil {
		return horde.AlchemySubmission{}, nil, horde.Invalidf("result", "result is not valid JSON")
	}
	sub.Result = string(raw)
	for k, v := range b.Result {
		if !horde.ImageForm(k) {
			continue
		}
		var gen string
		if json.Unmarshal(v, &gen) != nil {
			return horde.AlchemySubmission{}, nil, horde.Invalidf("result", "result.%s must be \"R2\" or a base64 image", k)
		}
		if gen == "R2" {
			sub.UseUpload = true
			continue
		}
		img, err := decodeBase64Image(gen, "result")
		if err != nil {
			return horde.AlchemySubmission{}, nil, err
		}
		sub.Image = img
	}
	return sub, unknown, nil
}

func (s *server) interrogateSubmit(w http.ResponseWriter, r *http.Request) {
	data, err := s.readBody(w, r, s.inlineSubmitLimit())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, unknown, err := DecodeAlchemySubmit(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(unknown) > 0 {
		s.log.DebugContext(r.Context(), "alchemy submit with unknown fields", "form", sub.FormID, "fields", unknown)
	}
	c, err := s.workerCredential(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reward, err := s.h.SubmitAlchemy(r.Context(), c, sub)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.SubmitResponse{Reward: float64(reward)})
}
