package aihorde

import "encoding/json"

// The bodies of an image or text request (POST /generate/async and
// /generate/text/async) and of the answer. Optional fields are pointers, so
// that horde/api tells a field left out (the AI Horde's default applies) from
// one set to its zero value.

// AsyncCommon holds the fields image and text requests share.
type AsyncCommon struct {
	TrustedWorkers    *bool              `json:"trusted_workers"`
	SlowWorkers       *bool              `json:"slow_workers"`
	ExtraSlowWorkers  *bool              `json:"extra_slow_workers"`
	Workers           []string           `json:"workers"`
	WorkerBlacklist   *bool              `json:"worker_blacklist"`
	Models            []string           `json:"models"`
	DryRun            *bool              `json:"dry_run"`
	ProxiedAccount    *string            `json:"proxied_account"`
	DisableBatching   *bool              `json:"disable_batching"`
	AllowDowngrade    *bool              `json:"allow_downgrade"`
	Webhook           *string            `json:"webhook"`
	Style             *string            `json:"style"`
	ExtraSourceImages []ExtraSourceImage `json:"extra_source_images"`
}

// ExtraSourceImage is one of a request's extra_source_images (Stable
// Cascade remix), also forwarded in the pop answer. Strength left out is
// DefaultExtraSourceStrength.
type ExtraSourceImage struct {
	Image    string   `json:"image"`
	Strength *float64 `json:"strength,omitempty"`
}

// ImageAsyncRequest is the body of POST /generate/async.
type ImageAsyncRequest struct {
	AsyncCommon
	Prompt            *string      `json:"prompt"`
	Params            *ImageParams `json:"params"`
	NSFW              *bool        `json:"nsfw"`
	CensorNSFW        *bool        `json:"censor_nsfw"`
	SourceImage       *string      `json:"source_image"`
	SourceProcessing  *string      `json:"source_processing"`
	SourceMask        *string      `json:"source_mask"`
	R2                *bool        `json:"r2"`
	Shared            *bool        `json:"shared"`
	ReplacementFilter *bool        `json:"replacement_filter"`
}

// ImageParams is the "params" of an ImageAsyncRequest.
type ImageParams struct {
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
	Loras                     []Lora                     `json:"loras"`
	TIs                       []json.RawMessage          `json:"tis"`
	Special                   map[string]json.RawMessage `json:"special"`
	Workflow                  *string                    `json:"workflow"`
	Transparent               *bool                      `json:"transparent"`
	ExtraTexts                []json.RawMessage          `json:"extra_texts"`
	Steps                     *int                       `json:"steps"`
	N                         *int                       `json:"n"`
}

// TextAsyncRequest is the body of POST /generate/text/async.
type TextAsyncRequest struct {
	AsyncCommon
	Prompt     *string     `json:"prompt"`
	Params     *TextParams `json:"params"`
	Softprompt *string     `json:"softprompt"`
	// ValidatedBackends asks for workers whose backend the AI Horde has
	// validated (its default: true).
	ValidatedBackends *bool `json:"validated_backends"`
}

// TextParams is the "params" of a TextAsyncRequest: the KoboldAI generation
// settings (the AI Horde's ModelPayloadRootKobold). Every one of them
// reaches the worker in the pop payload (KoboldSampling).
type TextParams struct {
	N                     *int     `json:"n"`
	MaxLength             *int     `json:"max_length"`
	MaxContextLength      *int     `json:"max_context_length"`
	Temperature           *float64 `json:"temperature"`
	TopP                  *float64 `json:"top_p"`
	TopK                  *int     `json:"top_k"`
	RepPen                *float64 `json:"rep_pen"`
	RepPenRange           *int     `json:"rep_pen_range"`
	RepPenSlope           *float64 `json:"rep_pen_slope"`
	StopSequence          []string `json:"stop_sequence"`
	Frmtadsnsp            *bool    `json:"frmtadsnsp"`
	Frmtrmblln            *bool    `json:"frmtrmblln"`
	Frmtrmspch            *bool    `json:"frmtrmspch"`
	Frmttriminc           *bool    `json:"frmttriminc"`
	Singleline            *bool    `json:"singleline"`
	TFS                   *float64 `json:"tfs"`
	TopA                  *float64 `json:"top_a"`
	Typical               *float64 `json:"typical"`
	MinP                  *float64 `json:"min_p"`
	SamplerOrder          []int    `json:"sampler_order"`
	UseDefaultBadwordsids *bool    `json:"use_default_badwordsids"`
	SmoothingFactor       *float64 `json:"smoothing_factor"`
	DynatempRange         *float64 `json:"dynatemp_range"`
	DynatempExponent      *float64 `json:"dynatemp_exponent"`
}

// AsyncResponse is the 202 answer to a queued request.
type AsyncResponse struct {
	ID       string    `json:"id"`
	Kudos    int64     `json:"kudos"`
	Warnings []Warning `json:"warnings"`
}

// DryRunResponse is the answer to a dry_run request: its price only.
type DryRunResponse struct {
	Kudos int64 `json:"kudos"`
}

// Warning is one entry of an async response's "warnings", as on the AI Horde:
// something the request asked for that was accepted but ignored.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
