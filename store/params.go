package store

import "github.com/hordebot/hordebot/horde"

// The JSON stored in the requests.params, generations.metadata and
// pending_submits.metadata columns. The domain's types carry no JSON tags;
// these are the stored shapes, whose names must not change (rows written by
// earlier versions are read with them).

// requestParams is the JSON of the params column.
type requestParams struct {
	Image *storedImageParams `json:"image,omitempty"`
	Text  *storedTextParams  `json:"text,omitempty"`
	// Which workers may take the request (horde.Request's fields of the
	// same names); absent in rows written before they existed.
	FastWorkersOnly  bool `json:"fast_workers_only,omitempty"`
	ExtraSlowWorkers bool `json:"extra_slow_workers,omitempty"`
	DisableBatching  bool `json:"disable_batching,omitempty"`
}

// requestParamsOf is the stored form of a request's parameters and worker choices.
func requestParamsOf(r horde.Request) requestParams {
	p := paramsOf(r.Image, r.Text)
	p.FastWorkersOnly, p.ExtraSlowWorkers, p.DisableBatching = r.FastWorkersOnly, r.ExtraSlowWorkers, r.DisableBatching
	return p
}

// setRequest copies the stored parameters and worker choices into r.
func (p requestParams) setRequest(r *horde.Request) {
	r.Image, r.Text = p.domain()
	r.FastWorkersOnly, r.ExtraSlowWorkers, r.DisableBatching = p.FastWorkersOnly, p.ExtraSlowWorkers, p.DisableBatching
}

type storedLora struct {
	Name      string  `json:"name"`
	Model     float64 `json:"model,omitempty"`
	Clip      float64 `json:"clip,omitempty"`
	IsVersion bool    `json:"is_version,omitempty"`
}

type storedImageParams struct {
	Width             int                      `json:"width"`
	Height            int                      `json:"height"`
	Steps             int                      `json:"steps"`
	SamplerName       string                   `json:"sampler_name"`
	CFGScale          float64                  `json:"cfg_scale"`
	Seed              string                   `json:"seed,omitempty"`
	SeedVariation     int                      `json:"seed_variation,omitempty"`
	DenoisingStrength float64                  `json:"denoising_strength,omitempty"`
	HiresFixDenoising float64                  `json:"hires_fix_denoising_strength,omitempty"`
	FacefixerStrength float64                  `json:"facefixer_strength,omitempty"`
	Karras            bool                     `json:"karras,omitempty"`
	Tiling            bool                     `json:"tiling,omitempty"`
	HiresFix          bool                     `json:"hires_fix,omitempty"`
	ClipSkip          int                      `json:"clip_skip,omitempty"`
	PostProcessing    []string                 `json:"post_processing,omitempty"`
	Loras             []storedLora             `json:"loras,omitempty"`
	SourceImage       string                   `json:"source_image,omitempty"`
	SourceProcessing  string                   `json:"source_processing,omitempty"`
	SourceMask        string                   `json:"source_mask,omitempty"`
	ExtraSourceImages []storedExtraSourceImage `json:"extra_source_images,omitempty"`
}

type storedExtraSourceImage struct {
	Image    string  `json:"image"`
	Strength float64 `json:"strength"`
}

type storedTextParams struct {
	MaxLength        int      `json:"max_length"`
	MaxContextLength int      `json:"max_context_length"`
	Temperature      float64  `json:"temperature,omitempty"`
	TopP             float64  `json:"top_p,omitempty"`
	TopK             int      `json:"top_k,omitempty"`
	RepPen           float64  `json:"rep_pen,omitempty"`
	RepPenRange      int      `json:"rep_pen_range,omitempty"`
	StopSequence     []string `json:"stop_sequence,omitempty"`
	Softprompt       string   `json:"softprompt,omitempty"`
	// Added with the AI Horde's other text params; rows written before have none.
	RepPenSlope           float64 `json:"rep_pen_slope,omitempty"`
	TopA                  float64 `json:"top_a,omitempty"`
	Typical               float64 `json:"typical,omitempty"`
	TFS                   float64 `json:"tfs,omitempty"`
	MinP                  float64 `json:"min_p,omitempty"`
	SmoothingFactor       float64 `json:"smoothing_factor,omitempty"`
	DynatempRange         float64 `json:"dynatemp_range,omitempty"`
	DynatempExponent      float64 `json:"dynatemp_exponent,omitempty"`
	SamplerOrder          []int   `json:"sampler_order,omitempty"`
	Singleline            *bool   `json:"singleline,omitempty"`
	Frmtadsnsp            *bool   `json:"frmtadsnsp,omitempty"`
	Frmtrmblln            *bool   `json:"frmtrmblln,omitempty"`
	Frmtrmspch            *bool   `json:"frmtrmspch,omitempty"`
	Frmttriminc           *bool   `json:"frmttriminc,omitempty"`
	UseDefaultBadwordsids *bool   `json:"use_default_badwordsids,omitempty"`
	AnyBackend            bool    `json:"any_backend,omitempty"`
}

type storedMetadata struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Ref   string `json:"ref,omitempty"`
}

// paramsOf is the stored form of a request's parameters.
func paramsOf(image *horde.ImageParams, text *horde.TextParams) requestParams {
	var p requestParams
	if image != nil {
		ip := storedImageParams{
			Width: image.Width, Height: image.Height, Steps: image.Steps, SamplerName: image.SamplerName,
			CFGScale: image.CFGScale, Seed: image.Seed, SeedVariation: image.SeedVariation,
			DenoisingStrength: image.DenoisingStrength, HiresFixDenoising: image.HiresFixDenoisingStrength,
			FacefixerStrength: image.FacefixerStrength, Karras: image.Karras, Tiling: image.Tiling,
			HiresFix: image.HiresFix, ClipSkip: image.ClipSkip, PostProcessing: image.PostProcessing,
			SourceImage: image.SourceImage, SourceProcessing: image.SourceProcessing, SourceMask: image.SourceMask,
		}
		for _, l := range image.Loras {
			ip.Loras = append(ip.Loras, storedLora(l))
		}
		for _, x := range image.ExtraSourceImages {
			ip.ExtraSourceImages = append(ip.ExtraSourceImages, storedExtraSourceImage(x))
		}
		p.Image = &ip
	}
	if text != nil {
		t := *text
		p.Text = &storedTextParams{
			MaxLength: t.MaxLength, MaxContextLength: t.MaxContextLength, Temperature: t.Temperature,
			TopP: t.TopP, TopK: t.TopK, RepPen: t.RepPen, RepPenRange: t.RepPenRange,
			StopSequence: t.StopSequence, Softprompt: t.Softprompt, RepPenSlope: t.RepPenSlope,
			TopA: t.TopA, Typical: t.Typical, TFS: t.TFS, MinP: t.MinP, SmoothingFactor: t.SmoothingFactor,
			DynatempRange: t.DynatempRange, DynatempExponent: t.DynatempExponent, SamplerOrder: t.SamplerOrder,
			Singleline: t.Singleline, Frmtadsnsp: t.Frmtadsnsp, Frmtrmblln: t.Frmtrmblln, Frmtrmspch: t.Frmtrmspch,
			Frmttriminc: t.Frmttriminc, UseDefaultBadwordsids: t.UseDefaultBadwordsids,
			AnyBackend: t.AnyBackend,
		}
	}
	return p
}

// domain is the stored parameters back in the domain's types.
func (p requestParams) domain() (*horde.ImageParams, *horde.TextParams) {
	var image *horde.ImageParams
	var text *horde.TextParams
	if s := p.Image; s != nil {
		image = &horde.ImageParams{
			Width: s.Width, Height: s.Height, Steps: s.Steps, SamplerName: s.SamplerName,
			CFGScale: s.CFGScale, Seed: s.Seed, SeedVariation: s.SeedVariation,
			DenoisingStrength: s.DenoisingStrength, HiresFixDenoisingStrength: s.HiresFixDenoising,
			FacefixerStrength: s.FacefixerStrength, Karras: s.Karras, Tiling: s.Tiling,
			HiresFix: s.HiresFix, ClipSkip: s.ClipSkip, PostProcessing: s.PostProcessing,
			SourceImage: s.SourceImage, SourceProcessing: s.SourceProcessing, SourceMask: s.SourceMask,
		}
		for _, l := range s.Loras {
			image.Loras = append(image.Loras, horde.Lora(l))
		}
		for _, x := range s.ExtraSourceImages {
			image.ExtraSourceImages = append(image.ExtraSourceImages, horde.ExtraSourceImage(x))
		}
	}
	if s := p.Text; s != nil {
		text = &horde.TextParams{
			MaxLength: s.MaxLength, MaxContextLength: s.MaxContextLength, Temperature: s.Temperature,
			TopP: s.TopP, TopK: s.TopK, RepPen: s.RepPen, RepPenRange: s.RepPenRange,
			StopSequence: s.StopSequence, Softprompt: s.Softprompt, RepPenSlope: s.RepPenSlope,
			TopA: s.TopA, Typical: s.Typical, TFS: s.TFS, MinP: s.MinP, SmoothingFactor: s.SmoothingFactor,
			DynatempRange: s.DynatempRange, DynatempExponent: s.DynatempExponent, SamplerOrder: s.SamplerOrder,
			Singleline: s.Singleline, Frmtadsnsp: s.Frmtadsnsp, Frmtrmblln: s.Frmtrmblln, Frmtrmspch: s.Frmtrmspch,
			Frmttriminc: s.Frmttriminc, UseDefaultBadwordsids: s.UseDefaultBadwordsids,
			AnyBackend: s.AnyBackend,
		}
	}
	return image, text
}

// metadataOf is the stored form of a generation's metadata.
func metadataOf(ms []horde.GenMetadata) []storedMetadata {
	if ms == nil {
		return nil
	}
	out := make([]storedMetadata, len(ms))
	for i, m := range ms {
		out[i] = storedMetadata(m)
	}
	return out
}

// metadataFrom is stored metadata back in the domain's type.
func metadataFrom(ms []storedMetadata) []horde.GenMetadata {
	if ms == nil {
		return nil
	}
	out := make([]horde.GenMetadata, len(ms))
	for i, m := range ms {
		out[i] = horde.GenMetadata(m)
	}
	return out
}
