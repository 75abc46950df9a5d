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
		for _, x := range image.ExtraSourceImages {
			ip.ExtraSourceImages = append(ip.ExtraSourceImages, storedExtraSourceImage(x))
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
		for _, x := range s.ExtraSourceImages {
			image.ExtraSourceImages = append(image.ExtraSourceImages, horde.ExtraSourceImage(x))
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
