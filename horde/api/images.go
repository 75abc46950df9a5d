package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// imageAsyncBody is the body of POST /generate/async.
type imageAsyncBody struct {
	asyncCommon
	Prompt            *string          `json:"prompt"`
	Params            *imageParamsBody `json:"params"`
	NSFW              *bool            `json:"nsfw"`
	CensorNSFW        *bool            `json:"censor_nsfw"`
	SourceImage       *string          `json:"source_image"`
	SourceProcessing  *string          `json:"source_processing"`
	SourceMask        *string          `json:"source_mask"`
	R2                *bool            `json:"r2"`
	Shared            *bool            `json:"shared"`
	ReplacementFilter *bool            `json:"replacement_filter"`
}

// imageParamsBody is its "params".
type imageParamsBody struct {
	SamplerName               *string                    `json:"sampler_name"`
	CFGScale                  *float64                   `json:"cfg_scale"`
	DenoisingStrength         *float64                   `json:"denoising_strength"`
	HiresFixDenoisingStrength *float64                   `json:"hires_fix_denoising_strength"`
	Seed                      json.RawMessage            `json:"seed"`
	Height                    *int                       `json:"height"`
	Width                     *int                       `json:"width"`
	SeedVariation             *int                       `json:"seed_variation"`
	PostProcessing            []string                   `json:"post_processing"`
	Karras                    *bool                      `json:"karras"`
	Tiling                    *bool                      `json:"tiling"`
	HiresFix                  *bool                      `json:"hires_fix"`
	ClipSkip                  *int                       `json:"clip_skip"`
	ControlType               *string                    `json:"control_type"`
	ImageIsControl            *bool                      `json:"image_is_control"`
	ReturnControlMap          *bool                      `json:"return_control_map"`
	FacefixerStrength         *float64                   `json:"facefixer_strength"`
	Loras                     []loraBody                 `json:"loras"`
	TIs                       []json.RawMessage          `json:"tis"`
	Special                   map[string]json.RawMessage `json:"special"`
	Workflow                  *string                    `json:"workflow"`
	Transparent               *bool                      `json:"transparent"`
	ExtraTexts                []json.RawMessage          `json:"extra_texts"`
	Steps                     *int                       `json:"steps"`
	N                         *int                       `json:"n"`
}

type loraBody struct {
	Name          *string  `json:"name"`
	Model         *float64 `json:"model"`
	Clip          *float64 `json:"clip"`
	InjectTrigger *string  `json:"inject_trigger"`
	IsVersion     *bool    `json:"is_version"`
}

// DecodeImageAsync parses and validates the body of POST /generate/async
// into a NewRequest (without ClientAgent and Source, which come from the
// HTTP request). Errors are KindInvalid *horde.Error naming the JSON field.
func DecodeImageAsync(data []byte) (horde.NewRequest, []Warning, error) {
	var b imageAsyncBody
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.NewRequest{}, nil, err
	}
	warnings := unknownFieldWarnings(unknown)
	var c check
	prompt := valueOr(b.Prompt, "")
	c.text("prompt", prompt, true, aihorde.MaxPromptLength)

	pb := b.Params
	if pb == nil {
		pb = &imageParamsBody{}
	}
	p := horde.ImageParams{
		Width:             valueOr(pb.Width, aihorde.DefaultWidth),
		Height:            valueOr(pb.Height, aihorde.DefaultHeight),
		Steps:             valueOr(pb.Steps, aihorde.DefaultSteps),
		SamplerName:       valueOr(pb.SamplerName, aihorde.DefaultSampler),
		CFGScale:          valueOr(pb.CFGScale, aihorde.DefaultCFGScale),
		SeedVariation:     valueOr(pb.SeedVariation, 0),
		DenoisingStrength: valueOr(pb.DenoisingStrength, 0),
		Karras:            valueOr(pb.Karras, false),
		Tiling:            valueOr(pb.Tiling, false),
		HiresFix:          valueOr(pb.HiresFix, false),
		ClipSkip:          valueOr(pb.ClipSkip, 0),
		PostProcessing:    pb.PostProcessing,
		SourceImage:       valueOr(b.SourceImage, ""),
		SourceProcessing:  valueOr(b.SourceProcessing, ""),
		SourceMask:        valueOr(b.SourceMask, ""),
	}
	n := valueOr(pb.N, aihorde.DefaultN)
	seed, err := seedString(pb.Seed, "params.seed")
	if err != nil {
		return horde.NewRequest{}, nil, err
	}
	p.Seed = seed

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
	if pb.ClipSkip != nil {
		c.intRange("params.clip_skip", p.ClipSkip, aihorde.MinClipSkip, aihorde.MaxClipSkip)
	}
	c.list("params.post_processing", p.PostProcessing, aihorde.MaxPostProcessors, aihorde.MaxNameLength)
	if len(pb.Loras) > aihorde.MaxLoras {
		c.fail("params.loras", "params.loras may have at most %d entries, not %d", aihorde.MaxLoras, len(pb.Loras))
	}
	for _, l := range pb.Loras {
		lora := horde.Lora{Name: valueOr(l.Name, ""), Model: valueOr(l.Model, aihorde.DefaultLoraStrength), Clip: valueOr(l.Clip, aihorde.DefaultLoraStrength), IsVersion: valueOr(l.IsVersion, false)}
		c.text("params.loras.name", lora.Name, true, aihorde.MaxNameLength)
		c.floatRange("params.loras.model", lora.Model, aihorde.MinLoraStrength, aihorde.MaxLoraStrength)
		c.floatRange("params.loras.clip", lora.Clip, aihorde.MinLoraStrength, aihorde.MaxLoraStrength)
		p.Loras = append(p.Loras, lora)
	}
	if p.SourceProcessing != "" {
		c.oneOf("source_processing", p.SourceProcessing, "img2img", "inpainting", "outpainting")
	}
	if p.SourceImage == "" && (p.SourceProcessing == "inpainting" || p.SourceProcessing == "outpainting") {
		c.fail("source_image", "source_image is required for %s", p.SourceProcessing)
	}
	if c.err != nil {
		return horde.NewRequest{}, nil, c.err
	}
	unsupported := func(set bool, field string) { warnUnsupported(&warnings, set, field) }
	unsupported(valueOr(pb.ControlType, "") != "", "params.control_type")
	unsupported(len(pb.TIs) > 0, "params.tis")
	unsupported(len(pb.Special) > 0, "params.special")
	unsupported(valueOr(pb.Workflow, "") != "", "params.workflow")
	unsupported(valueOr(pb.Transparent, false), "params.transparent")
	unsupported(len(pb.ExtraTexts) > 0, "params.extra_texts")

	nr := horde.NewRequest{
		Kind:   horde.KindImage,
		Prompt: prompt,
		Image:  &p,
		N:      n,
		NSFW:   valueOr(b.NSFW, false),
		R2:     valueOr(b.R2, true),
		Shared: valueOr(b.Shared, false),
	}
	b.asyncCommon.apply(&c, &nr, &warnings)
	if c.err != nil {
		return horde.NewRequest{}, nil, c.err
	}
	return nr, warnings, nil
}

func (s *server) imageAsync(w http.ResponseWriter, r *http.Request) {
	s.async(w, r, s.opt.MaxBodyBytes, DecodeImageAsync)
}

func (s *server) imageCheck(w http.ResponseWriter, r *http.Request) {
	p, err := s.checkOfKind(r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, progressOf(p))
}

// imageStatusJSON is the AI Horde's image status view.
type imageStatusJSON struct {
	progressJSON
	Generations []imageGenerationJSON `json:"generations"`
	Shared      bool                  `json:"shared"`
}

type imageGenerationJSON struct {
	Img         string            `json:"img"`
	Seed        string            `json:"seed"`
	ID          string            `json:"id"`
	Censored    bool              `json:"censored"`
	WorkerID    string            `json:"worker_id"`
	WorkerName  string            `json:"worker_name"`
	Model       string            `json:"model"`
	State       string            `json:"state"`
	GenMetadata []genMetadataJSON `json:"gen_metadata"`
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
	out := imageStatusJSON{progressJSON: progressOf(p), Shared: p.Request.Shared, Generations: []imageGenerationJSON{}}
	base := s.baseURL(r)
	for _, g := range gens {
		ig := imageGenerationJSON{
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
			ig.Img = resultURL(base, g.BlobRef)
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

// imagePopJSON is the answer to an image worker's pop. id, ids, payload and
// skipped are always present; the rest only with a job.
type imagePopJSON struct {
	ID               *string       `json:"id"`
	IDs              []string      `json:"ids"`
	Payload          any           `json:"payload"`
	Skipped          horde.Skipped `json:"skipped"`
	Model            string        `json:"model,omitempty"`
	TTL              int           `json:"ttl,omitempty"`
	SourceImage      string        `json:"source_image,omitempty"`
	SourceProcessing string        `json:"source_processing,omitempty"`
	SourceMask       string        `json:"source_mask,omitempty"`
	R2Upload         string        `json:"r2_upload,omitempty"`
	R2Uploads        []string      `json:"r2_uploads,omitempty"`
}

// imagePayloadJSON is the generation payload a worker runs.
type imagePayloadJSON struct {
	Prompt    string `json:"prompt"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Steps     int    `json:"steps"`
	DDIMSteps int    `json:"ddim_steps"`
	NIter     int    `json:"n_iter"`
	// Seed is a decimal string, as the AI Horde marshals it (its ModelPayload
	// declares seed a String): horde_sdk, under horde-worker-reGen, rejects a
	// JSON number there.
	Seed              string       `json:"seed"`
	SeedVariation     int          `json:"seed_variation,omitempty"`
	SamplerName       string       `json:"sampler_name"`
	CFGScale          float64      `json:"cfg_scale"`
	Karras            bool         `json:"karras"`
	Tiling            bool         `json:"tiling"`
	HiresFix          bool         `json:"hires_fix"`
	ClipSkip          int          `json:"clip_skip"`
	DenoisingStrength float64      `json:"denoising_strength"`
	PostProcessing    []string     `json:"post_processing"`
	Loras             []horde.Lora `json:"loras"`
	UseNSFWCensor     bool         `json:"use_nsfw_censor"`
}

func (s *server) imagePop(w http.ResponseWriter, r *http.Request) {
	as, skipped, err := s.pop(w, r, horde.KindImage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := imagePopJSON{IDs: []string{}, Payload: struct{}{}, Skipped: skippedOf(skipped)}
	if len(as) == 0 || as[0].Request.Image == nil {
		s.ok(w, out)
		return
	}
	first := as[0]
	req, ip := first.Request, *first.Request.Image
	base := s.baseURL(r)
	out.IDs = jobIDs(as)
	for _, id := range out.IDs {
		out.R2Uploads = append(out.R2Uploads, uploadURL(base, id))
	}
	out.ID = &out.IDs[0]
	out.R2Upload = out.R2Uploads[0]
	out.Model = first.Job.Model
	out.TTL = ttlSeconds(first)
	out.SourceImage = ip.SourceImage
	out.SourceMask = ip.SourceMask
	out.SourceProcessing = ip.SourceProcessing
	if out.SourceProcessing == "" {
		out.SourceProcessing = "img2img"
	}
	pl := imagePayloadJSON{
		Prompt:            req.Prompt,
		Width:             ip.Width,
		Height:            ip.Height,
		Steps:             ip.Steps,
		DDIMSteps:         ip.Steps,
		NIter:             1,
		Seed:              strconv.FormatInt(first.Job.Seed, 10),
		SeedVariation:     ip.SeedVariation,
		SamplerName:       ip.SamplerName,
		CFGScale:          ip.CFGScale,
		Karras:            ip.Karras,
		Tiling:            ip.Tiling,
		HiresFix:          ip.HiresFix,
		ClipSkip:          max(ip.ClipSkip, 1),
		DenoisingStrength: ip.DenoisingStrength,
		PostProcessing:    ip.PostProcessing,
		Loras:             ip.Loras,
		UseNSFWCensor:     !req.NSFW,
	}
	if pl.DenoisingStrength == 0 {
		pl.DenoisingStrength = aihorde.DefaultDenoisingStrength
	}
	if pl.PostProcessing == nil {
		pl.PostProcessing = []string{}
	}
	if pl.Loras == nil {
		pl.Loras = []horde.Lora{}
	}
	out.Payload = pl
	s.ok(w, out)
}

func (s *server) imageSubmit(w http.ResponseWriter, r *http.Request) { s.submit(w, r, horde.KindImage) }
