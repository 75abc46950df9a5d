package api

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// DecodeImageAsync parses and validates the body of POST /generate/async
// into a NewRequest (without ClientAgent and Source, which come from the
// HTTP request). Errors are KindInvalid *horde.Error naming the JSON field.
// It also returns what the body asked for that is ignored (fields it does
// not know, AI Horde features this horde does not offer), for the log.
func DecodeImageAsync(data []byte) (horde.NewRequest, []string, error) {
	var b aihorde.ImageAsyncRequest
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.NewRequest{}, nil, err
	}
	ig := ignored(unknown)
	var c check
	prompt := valueOr(b.Prompt, "")
	c.prompt(prompt, aihorde.MaxPromptLength)

	pb := b.Params
	if pb == nil {
		pb = &aihorde.ImageParams{}
	}
	p := horde.ImageParams{
		Width:             valueOr(pb.Width, aihorde.DefaultWidth),
		Height:            valueOr(pb.Height, aihorde.DefaultHeight),
		Steps:             valueOr(pb.Steps, aihorde.DefaultSteps),
		SamplerName:       valueOr(pb.SamplerName, aihorde.DefaultSampler),
		CFGScale:          valueOr(pb.CFGScale, aihorde.DefaultCFGScale),
		SeedVariation:     valueOr(pb.SeedVariation, 0),
		DenoisingStrength: valueOr(pb.DenoisingStrength, 0),

		HiresFixDenoisingStrength: valueOr(pb.HiresFixDenoisingStrength, 0),
		FacefixerStrength:         valueOr(pb.FacefixerStrength, 0),

		Karras:           valueOr(pb.Karras, false),
		Tiling:           valueOr(pb.Tiling, false),
		HiresFix:         valueOr(pb.HiresFix, false),
		ClipSkip:         valueOr(pb.ClipSkip, 0),
		PostProcessing:   pb.PostProcessing,
		SourceImage:      valueOr(b.SourceImage, ""),
		SourceProcessing: valueOr(b.SourceProcessing, ""),
		SourceMask:       valueOr(b.SourceMask, ""),
	}
	n := valueOr(pb.N, aihorde.DefaultN)
	seed, err := seedString(pb.Seed, "params.seed")
	if err != nil {
		return horde.NewRequest{}, nil, err
	}
	p.Seed = seed

	if p.Steps > aihorde.MaxSteps {
		c.failRC("TooManySteps", "params.steps", "params.steps must be at most %d, not %d", aihorde.MaxSteps, p.Steps)
	}
	c.intRange("params.steps", p.Steps, aihorde.MinSteps, aihorde.MaxSteps)
	c.intRange("params.n", n, aihorde.MinN, aihorde.MaxN)
	c.side("params.width", p.Width)
	c.side("params.height", p.Height)
	c.text("params.sampler_name", p.SamplerName, true, aihorde.MaxSamplerLength)
	c.floatRange("params.cfg_scale", p.CFGScale, aihorde.MinCFGScale, aihorde.MaxCFGScale)
	c.text("params.seed", p.Seed, false, aihorde.MaxSeedLength)
	if pb.SeedVariation != nil {
		c.intRange("params.seed_variation", p.SeedVariation, aihorde.MinSeedVariation, aihorde.MaxSeedVariation)
	}
	if pb.DenoisingStrength != nil {
		c.floatRange("params.denoising_strength", p.DenoisingStrength, aihorde.MinDenoisingStrength, aihorde.MaxDenoisingStrength)
	}
	if pb.HiresFixDenoisingStrength != nil {
		c.floatRange("params.hires_fix_denoising_strength", p.HiresFixDenoisingStrength, aihorde.MinDenoisingStrength, aihorde.MaxDenoisingStrength)
	}
	if pb.FacefixerStrength != nil {
		c.floatRange("params.facefixer_strength", p.FacefixerStrength, aihorde.MinFacefixerStrength, aihorde.MaxFacefixerStrength)
	}
	if pb.ClipSkip != nil {
		c.intRange("params.clip_skip", p.ClipSkip, aihorde.MinClipSkip, aihorde.MaxClipSkip)
	}
	c.list("params.post_processing", p.PostProcessing, aihorde.MaxPostProcessors, aihorde.MaxNameLength)
	if len(pb.Loras) > aihorde.MaxLoras {
		c.failRC("TooManyLoras", "params.loras", "params.loras may have at most %d entries, not %d", aihorde.MaxLoras, len(pb.Loras))
	}
	for _, l := range pb.Loras {
		lora := horde.Lora{Name: l.Name, Model: l.Model, Clip: l.Clip, IsVersion: l.IsVersion}
		c.text("params.loras.name", lora.Name, true, aihorde.MaxNameLength)
		c.floatRange("params.loras.model", lora.Model, aihorde.MinLoraStrength, aihorde.MaxLoraStrength)
		c.floatRange("params.loras.clip", lora.Clip, aihorde.MinLoraStrength, aihorde.MaxLoraStrength)
		p.Loras = append(p.Loras, lora)
	}
	if p.SourceProcessing != "" {
		c.oneOf("source_processing", p.SourceProcessing, "img2img", "inpainting", "outpainting", "remix")
	}
	p.ExtraSourceImages = extraSourceImages(&c, b.ExtraSourceImages)
	if p.SourceImage == "" && (p.SourceProcessing == "inpainting" || p.SourceProcessing == "outpainting") {
		c.fail("source_image", "source_image is required for %s", p.SourceProcessing)
	}
	if c.err != nil {
		return horde.NewRequest{}, nil, c.err
	}
	ig.add(valueOr(pb.ControlType, "") != "", "params.control_type")
	ig.add(len(pb.TIs) > 0, "params.tis")
	ig.add(len(pb.Special) > 0, "params.special")
	ig.add(valueOr(pb.Workflow, "") != "", "params.workflow")
	ig.add(valueOr(pb.Transparent, false), "params.transparent")
	ig.add(len(pb.ExtraTexts) > 0, "params.extra_texts")

	nr := horde.NewRequest{
		Kind:   horde.KindImage,
		Prompt: prompt,
		Image:  &p,
		N:      n,
		NSFW:   valueOr(b.NSFW, false),
		R2:     valueOr(b.R2, true),
		Shared: valueOr(b.Shared, false),
	}
	applyCommon(&b.AsyncCommon, &c, &nr, &ig)
	if c.err != nil {
		return horde.NewRequest{}, nil, c.err
	}
	return nr, ig, nil
}

func (s *server) imageAsync(w http.ResponseWriter, r *http.Request) {
	s.async(w, r, s.opt.MaxBodyBytes, horde.KindImage, DecodeImageAsync)
}

func (s *server) imageCheck(w http.ResponseWriter, r *http.Request) {
	p, err := s.checkOfKind(r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, progressOf(p))
}

func (s *server) imageStatus(w http.ResponseWriter, r *http.Request) {
	p, gens, err := s.statusOfKind(r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeImageStatus(w, r, p, gens)
}

func (s *server) imageCancel(w http.ResponseWriter, r *http.Request) {
	p, gens, err := s.cancelOfKind(r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeImageStatus(w, r, p, gens)
}

// writeImageStatus answers the status of an image request. Images are links
// to this server unless the request asked for r2:false, then inline base64.
// A generation flagged csam is never served.
func (s *server) writeImageStatus(w http.ResponseWriter, r *http.Request, p horde.Progress, gens []horde.Generation) {
	out := aihorde.ImageStatus{RequestStatusCheck: progressOf(p), Shared: p.Request.Shared, Generations: []aihorde.ImageGeneration{}}
	base := s.baseURL(r)
	for _, g := range gens {
		ig := aihorde.ImageGeneration{
			Seed:        strconv.FormatInt(g.Seed, 10),
			ID:          g.JobID,
			Censored:    g.State == horde.ResultCensored || g.State == horde.ResultCSAM,
			WorkerID:    g.WorkerID,
			WorkerName:  g.WorkerName,
			Model:       g.Model,
			State:       g.State,
			GenMetadata: metadataOut(g.Metadata),
		}
		switch {
		case g.State == horde.ResultCSAM:
			ig.State = horde.ResultCensored
		case g.BlobRef == "":
		case p.Request.R2:
			ig.Img = s.resultLink(r, base, g.BlobRef)
		default:
			data, err := s.h.Blob(r.Context(), g.BlobRef)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			ig.Img = base64.StdEncoding.EncodeToString(data)
		}
		out.Generations = append(out.Generations, ig)
	}
	s.ok(w, out)
}

func (s *server) imagePop(w http.ResponseWriter, r *http.Request) {
	ans, err := s.pop(w, r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	as := ans.jobs
	out := aihorde.ImagePopResponse{IDs: []string{}, Skipped: skippedOf(ans.skipped), Messages: ans.messages}
	if len(as) == 0 || as[0].Request.Image == nil {
		s.ok(w, out)
		return
	}
	first := as[0]
	req, ip := first.Request, *first.Request.Image
	base := s.baseURL(r)
	out.IDs = jobIDs(as)
	for i, id := range out.IDs {
		// With a bucket for direct uploads, its presigned PUT (as the AI
		// Horde's R2 URLs); else this server's own upload route.
		u, err := s.h.DirectUploadURL(r.Context(), as[i].Job)
		if err != nil {
			s.log.Error("presign an upload; the worker uploads here instead", "job", id, "err", err)
		}
		if u == "" {
			u = uploadURL(base, id)
		}
		out.R2Uploads = append(out.R2Uploads, u)
	}
	out.ID = &out.IDs[0]
	out.R2Upload = out.R2Uploads[0]
	out.Model = first.Job.Model
	out.TTL = ttlSeconds(first)
	out.SourceImage = ip.SourceImage
	out.SourceMask = ip.SourceMask
	out.SourceProcessing = ip.SourceProcessing
	out.ExtraSourceImages = extraSourceImagesOut(ip.ExtraSourceImages)
	if out.SourceProcessing == "" {
		out.SourceProcessing = "img2img"
	}
	pl := aihorde.ImagePayload{
		Prompt:            req.Prompt,
		Width:             ip.Width,
		Height:            ip.Height,
		Steps:             ip.Steps,
		DDIMSteps:         ip.Steps,
		NIter:             len(out.IDs), // as the AI Horde: a batching worker makes n_iter images, one per id
		Seed:              aihorde.SeedOf(first.Job.Seed),
		SeedVariation:     ip.SeedVariation,
		SamplerName:       ip.SamplerName,
		CFGScale:          ip.CFGScale,
		Karras:            ip.Karras,
		Tiling:            ip.Tiling,
		HiresFix:          ip.HiresFix,
		ClipSkip:          max(ip.ClipSkip, aihorde.MinClipSkip),
		DenoisingStrength: ip.DenoisingStrength,

		HiresFixDenoisingStrength: ip.HiresFixDenoisingStrength,
		FacefixerStrength:         ip.FacefixerStrength,

		PostProcessing: ip.PostProcessing,
		Loras:          lorasOut(ip.Loras),
		UseNSFWCensor:  !req.NSFW,
	}
	if pl.DenoisingStrength == 0 {
		pl.DenoisingStrength = aihorde.DefaultDenoisingStrength
	}
	if pl.PostProcessing == nil {
		pl.PostProcessing = []string{}
	}
	out.Payload = &pl
	s.ok(w, out)
}

// lorasOut is the payload's loras (never null).
func lorasOut(ls []horde.Lora) []aihorde.Lora {
	out := make([]aihorde.Lora, 0, len(ls))
	for _, l := range ls {
		out = append(out, aihorde.Lora{Name: l.Name, Model: l.Model, Clip: l.Clip, IsVersion: l.IsVersion})
	}
	return out
}

func (s *server) imageSubmit(w http.ResponseWriter, r *http.Request) { s.submit(w, r, horde.KindImage) }
