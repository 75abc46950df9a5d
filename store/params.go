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
	Width             int          `json:"width"`
	Height            int          `json:"height"`
	Steps             int          `json:"steps"`
	SamplerName       string       `json:"sampler_name"`
	CFGScale          float64      `json:"cfg_scale"`
	Seed              string       `json:"seed,omitempty"`
	SeedVariation     int          `json:"seed_variation,omitempty"`
	DenoisingStrength float64      `json:"denoising_strength,omitempty"`
	Karras            bool         `json:"karras,omitempty"`
	Tiling            bool         `json:"tiling,omitempty"`
	HiresFix          bool         `json:"hires_fix,omitempty"`
	ClipSkip          int          `json:"clip_skip,omitempty"`
	PostProcessing    []string     `json:"post_processing,omitempty"`
	Loras             []storedLora `json:"loras,omitempty"`
	SourceImage       string       `json:"source_image,omitempty"`
	SourceProcessing  string       `json:"source_processing,omitempty"`
	SourceMask        string       `json:"source_mask,omitempty"`
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
			DenoisingStrength: image.DenoisingStrength, Karras: image.Karras, Tiling: image.Tiling,
			HiresFix: image.HiresFix, ClipSkip: image.ClipSkip, PostProcessing: image.PostProcessing,
			SourceImage: image.SourceImage, SourceProcessing: image.SourceProcessing, SourceMask: image.SourceMask,
		}
		for _, l := range image.Loras {
			ip.Loras = append(ip.Loras, storedLora(l))
		}
		p.Image = &ip
	}
	if text != nil {
		tp := storedTextParams(*text)
		p.Text = &tp
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
			DenoisingStrength: s.DenoisingStrength, Karras: s.Karras, Tiling: s.Tiling,
			HiresFix: s.HiresFix, ClipSkip: s.ClipSkip, PostProcessing: s.PostProcessing,
			SourceImage: s.SourceImage, SourceProcessing: s.SourceProcessing, SourceMask: s.SourceMask,
		}
		for _, l := range s.Loras {
			image.Loras = append(image.Loras, horde.Lora(l))
		}
	}
	if p.Text != nil {
		tp := horde.TextParams(*p.Text)
		text = &tp
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
