package aihorde

import "encoding/json"

// PopCommon is what every worker sends on pop (the AI Horde's PopInput).
type PopCommon struct {
	Name                string   `json:"name"`
	PriorityUsernames   []string `json:"priority_usernames"`
	NSFW                bool     `json:"nsfw"`
	Models              []string `json:"models"`
	BridgeVersion       int      `json:"bridge_version,omitempty"`
	BridgeAgent         string   `json:"bridge_agent"`
	Threads             int      `json:"threads"`
	RequireUpfrontKudos bool     `json:"require_upfront_kudos"`
	Amount              int      `json:"amount"`
	ExtraSlowWorker     bool     `json:"extra_slow_worker,omitempty"`
	Blacklist           []string `json:"blacklist"`
}

// popCommonDefaults are the AI Horde's defaults of the fields a worker may leave out.
func popCommonDefaults() PopCommon {
	return PopCommon{Threads: DefaultThreads, Amount: DefaultPopAmount, BridgeAgent: DefaultBridgeAgent}
}

// ImagePopRequest is the body of POST /generate/pop.
type ImagePopRequest struct {
	PopCommon
	MaxPixels           int  `json:"max_pixels"`
	AllowImg2Img        bool `json:"allow_img2img"`
	AllowPainting       bool `json:"allow_painting"`
	AllowUnsafeIPAddr   bool `json:"allow_unsafe_ipaddr"`
	AllowUnsafeIP       bool `json:"allow_unsafe_ip,omitempty"` // what older workers send
	AllowPostProcessing bool `json:"allow_post_processing"`
	AllowControlnet     bool `json:"allow_controlnet,omitempty"`
	AllowSDXLControlnet bool `json:"allow_sdxl_controlnet,omitempty"`
	AllowLora           bool `json:"allow_lora"`
	LimitMaxSteps       bool `json:"limit_max_steps,omitempty"`
}

// NewImagePopRequest is an image pop with the AI Horde's defaults; decoding
// a worker's body into it leaves the fields the worker left out at those.
func NewImagePopRequest() ImagePopRequest {
	return ImagePopRequest{
		PopCommon: popCommonDefaults(), MaxPixels: DefaultMaxPixels,
		AllowImg2Img: true, AllowPainting: true, AllowUnsafeIPAddr: true, AllowPostProcessing: true,
	}
}

// TextPopRequest is the body of POST /generate/text/pop.
type TextPopRequest struct {
	PopCommon
	MaxLength        int      `json:"max_length"`
	MaxContextLength int      `json:"max_context_length"`
	Softprompts      []string `json:"softprompts"`
}

// NewTextPopRequest is a text pop with the AI Horde's defaults (see NewImagePopRequest).
func NewTextPopRequest() TextPopRequest {
	return TextPopRequest{
		PopCommon: popCommonDefaults(), MaxLength: DefaultWorkerMaxLength, MaxContextLength: DefaultWorkerMaxContextLength,
	}
}

// Skipped counts, by reason, the waiting requests a pop passed over (keys
// as the AI Horde names them: models, max_pixels, nsfw, blacklist, ...).
type Skipped map[string]int

// Lora is a LoRA to apply, in a request's params and in a pop's payload.
// Model and clip strengths left out are DefaultLoraStrength.
type Lora struct {
	Name          string  `json:"name"`
	Model         float64 `json:"model"`
	Clip          float64 `json:"clip"`
	InjectTrigger string  `json:"inject_trigger,omitempty"`
	IsVersion     bool    `json:"is_version,omitempty"`
}

// UnmarshalJSON reads a LoRA, defaulting the strengths it leaves out.
func (l *Lora) UnmarshalJSON(b []byte) error {
	type plain Lora
	p := plain{Model: DefaultLoraStrength, Clip: DefaultLoraStrength}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*l = Lora(p)
	return nil
}

// ImagePayload is the "payload" of an image pop response: what the worker
// generates.
type ImagePayload struct {
	Prompt    string `json:"prompt"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Steps     int    `json:"steps"`
	DDIMSteps int    `json:"ddim_steps"` // older servers' name for steps; both are sent
	NIter     int    `json:"n_iter"`     // = len(ids): batching workers make n_iter images
	Seed      Seed   `json:"seed"`
	// SeedVariation, when set, is added to the seed for each further image.
	SeedVariation     int     `json:"seed_variation,omitempty"`
	SamplerName       string  `json:"sampler_name"`
	CFGScale          float64 `json:"cfg_scale"`
	Karras            bool    `json:"karras"`
	Tiling            bool    `json:"tiling"`
	HiresFix          bool    `json:"hires_fix"`
	ClipSkip          int     `json:"clip_skip"`
	DenoisingStrength float64 `json:"denoising_strength"`
	// Left out when the request set none (the worker's default applies).
	HiresFixDenoisingStrength float64  `json:"hires_fix_denoising_strength,omitempty"`
	FacefixerStrength         float64  `json:"facefixer_strength,omitempty"`
	PostProcessing            []string `json:"post_processing"`
	Loras                     []Lora   `json:"loras"`
	UseNSFWCensor             bool     `json:"use_nsfw_censor"`
	// Some servers put the source image inside the payload rather than at
	// the top level of the pop response; a worker reads both.
	SourceImage      string `json:"source_image,omitempty"`
	SourceProcessing string `json:"source_processing,omitempty"`
	SourceMask       string `json:"source_mask,omitempty"`
}

// ImagePopResponse is the answer to an image pop. id, ids, payload and
// skipped are always present; with no job ID is nil, IDs empty, Payload nil
// (written as {}) and Skipped says why.
type ImagePopResponse struct {
	ID               *string       `json:"id"`
	IDs              []string      `json:"ids"`
	Payload          *ImagePayload `json:"payload"`
	Skipped          Skipped       `json:"skipped"`
	Model            string        `json:"model,omitempty"`
	TTL              float64       `json:"ttl,omitempty"` // seconds
	SourceImage      string        `json:"source_image,omitempty"`
	SourceProcessing string        `json:"source_processing,omitempty"`
	SourceMask       string        `json:"source_mask,omitempty"`
	// ExtraSourceImages are a remix's extra images, each with its strength.
	ExtraSourceImages []ExtraSourceImage `json:"extra_source_images,omitempty"`
	R2Upload          string             `json:"r2_upload,omitempty"`
	R2Uploads         []string           `json:"r2_uploads,omitempty"`
	// Messages are the worker's active messages (written [] when none).
	Messages []PopMessage `json:"messages"`
}

// MarshalJSON writes the response with "payload": {}, "skipped": {} and
// "messages": [] when there are none, as the AI Horde does.
func (r ImagePopResponse) MarshalJSON() ([]byte, error) {
	type plain ImagePopResponse
	out := struct {
		plain
		Payload any `json:"payload"`
	}{plain: plain(r), Payload: r.Payload}
	if r.Payload == nil {
		out.Payload = struct{}{}
	}
	emptyPopLists(&out.Skipped, &out.IDs, &out.Messages)
	return json.Marshal(out)
}

// JobIDs returns the popped job ids: ids when given, else id, else none.
func (r *ImagePopResponse) JobIDs() []string { return popIDs(r.ID, r.IDs) }

// KoboldSampling are the KoboldAI sampling settings of a text payload:
// every field of the AI Horde's text params model (ModelPayloadRootKobold in
// horde/apis/models/kobold_v2.py), carried unchanged to a KoboldAI backend.
// A zero number, and a nil flag, is the backend's default (the AI Horde
// leaves out what the request did not set).
type KoboldSampling struct {
	Temperature      float64  `json:"temperature,omitempty"`
	TopP             float64  `json:"top_p,omitempty"`
	TopK             int      `json:"top_k,omitempty"`
	TopA             float64  `json:"top_a,omitempty"`
	Typical          float64  `json:"typical,omitempty"`
	TFS              float64  `json:"tfs,omitempty"`
	MinP             float64  `json:"min_p,omitempty"`
	RepPen           float64  `json:"rep_pen,omitempty"`
	RepPenRange      int      `json:"rep_pen_range,omitempty"`
	RepPenSlope      float64  `json:"rep_pen_slope,omitempty"`
	SamplerOrder     []int    `json:"sampler_order,omitempty"`
	StopSequence     []string `json:"stop_sequence,omitempty"`
	SmoothingFactor  float64  `json:"smoothing_factor,omitempty"`
	DynatempRange    float64  `json:"dynatemp_range,omitempty"`
	DynatempExponent float64  `json:"dynatemp_exponent,omitempty"`
	Singleline       *bool    `json:"singleline,omitempty"`
	// The KoboldAI output formatting flags, and whether the backend bans
	// its default bad words (KoboldAI defaults it to true).
	Frmtadsnsp            *bool `json:"frmtadsnsp,omitempty"`
	Frmtrmblln            *bool `json:"frmtrmblln,omitempty"`
	Frmtrmspch            *bool `json:"frmtrmspch,omitempty"`
	Frmttriminc           *bool `json:"frmttriminc,omitempty"`
	UseDefaultBadwordsids *bool `json:"use_default_badwordsids,omitempty"`
}

// TextPayload is the "payload" of a text pop response (KoboldAI parameters).
type TextPayload struct {
	Prompt           string `json:"prompt"`
	N                int    `json:"n"`
	MaxLength        int    `json:"max_length"`
	MaxContextLength int    `json:"max_context_length"`
	KoboldSampling
	Seed Seed `json:"seed,omitzero"`
}

// TextPopResponse is the answer to a text pop (see ImagePopResponse).
// Softprompt is always present, null when none: the KoboldAI bridge reads
// it without a default.
type TextPopResponse struct {
	ID         *string      `json:"id"`
	IDs        []string     `json:"ids"`
	Payload    *TextPayload `json:"payload"`
	Model      string       `json:"model,omitempty"`
	Softprompt *string      `json:"softprompt"`
	Skipped    Skipped      `json:"skipped"`
	TTL        float64      `json:"ttl,omitempty"` // seconds
	// Messages are the worker's active messages (written [] when none).
	Messages []PopMessage `json:"messages"`
}

// MarshalJSON writes the response with "payload": {}, "skipped": {} and
// "messages": [] when there are none, as the AI Horde does.
func (r TextPopResponse) MarshalJSON() ([]byte, error) {
	type plain TextPopResponse
	out := struct {
		plain
		Payload any `json:"payload"`
	}{plain: plain(r), Payload: r.Payload}
	if r.Payload == nil {
		out.Payload = struct{}{}
	}
	emptyPopLists(&out.Skipped, &out.IDs, &out.Messages)
	return json.Marshal(out)
}

// JobIDs returns the popped job ids: ids when given, else id, else none.
func (r *TextPopResponse) JobIDs() []string { return popIDs(r.ID, r.IDs) }

// emptyPopLists writes a pop answer's unset skipped, ids and messages as
// {} and [], as the AI Horde does (clients index them without a nil check).
func emptyPopLists(skipped *Skipped, ids *[]string, messages *[]PopMessage) {
	if *skipped == nil {
		*skipped = Skipped{}
	}
	if *ids == nil {
		*ids = []string{}
	}
	if *messages == nil {
		*messages = []PopMessage{}
	}
}

func popIDs(id *string, ids []string) []string {
	out := make([]string, 0, len(ids)+1)
	for _, x := range ids {
		if x != "" {
			out = append(out, x)
		}
	}
	if len(out) == 0 && id != nil && *id != "" {
		out = append(out, *id)
	}
	return out
}
