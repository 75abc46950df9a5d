package worker

import (
	"encoding/json"

	"github.com/hordebot/hordebot/horde"
)

// This file holds the AI Horde v2 JSON shapes a worker sends and reads. They
// are the worker's own (it must work against the public AI Horde as well as
// hordebot's server) and follow what AI-Horde-Worker, horde-worker-reGen and
// the KoboldAI Horde bridge send.

// ImagePopRequest is the body of POST /api/v2/generate/pop.
type ImagePopRequest struct {
	Name                string   `json:"name"`
	Models              []string `json:"models"`
	MaxPixels           int      `json:"max_pixels"`
	NSFW                bool     `json:"nsfw"`
	Blacklist           []string `json:"blacklist"`
	Threads             int      `json:"threads"`
	Amount              int      `json:"amount"`
	BridgeAgent         string   `json:"bridge_agent"`
	AllowImg2Img        bool     `json:"allow_img2img"`
	AllowPainting       bool     `json:"allow_painting"`
	AllowPostProcessing bool     `json:"allow_post_processing"`
	AllowLora           bool     `json:"allow_lora"`
	AllowUnsafeIPAddr   bool     `json:"allow_unsafe_ipaddr"`
	RequireUpfrontKudos bool     `json:"require_upfront_kudos"`
	PriorityUsernames   []string `json:"priority_usernames"`
}

// TextPopRequest is the body of POST /api/v2/generate/text/pop.
type TextPopRequest struct {
	Name              string   `json:"name"`
	Models            []string `json:"models"`
	MaxLength         int      `json:"max_length"`
	MaxContextLength  int      `json:"max_context_length"`
	NSFW              bool     `json:"nsfw"`
	Blacklist         []string `json:"blacklist"`
	Threads           int      `json:"threads"`
	Amount            int      `json:"amount"`
	BridgeAgent       string   `json:"bridge_agent"`
	Softprompts       []string `json:"softprompts"`
	PriorityUsernames []string `json:"priority_usernames"`
}

// Lora is a LoRA named in an image payload.
type Lora struct {
	Name      string  `json:"name"`
	Model     float64 `json:"model,omitempty"`
	Clip      float64 `json:"clip,omitempty"`
	IsVersion bool    `json:"is_version,omitempty"`
}

// ImagePayload is the "payload" of an image pop response.
type ImagePayload struct {
	Prompt            string   `json:"prompt"`
	Width             int      `json:"width"`
	Height            int      `json:"height"`
	Steps             int      `json:"steps"`
	DDIMSteps         int      `json:"ddim_steps,omitempty"` // older servers' name for steps
	NIter             int      `json:"n_iter,omitempty"`
	Seed              Seed     `json:"seed"`
	SeedVariation     int      `json:"seed_variation,omitempty"`
	SamplerName       string   `json:"sampler_name"`
	CFGScale          float64  `json:"cfg_scale"`
	DenoisingStrength float64  `json:"denoising_strength,omitempty"`
	Karras            bool     `json:"karras,omitempty"`
	Tiling            bool     `json:"tiling,omitempty"`
	HiresFix          bool     `json:"hires_fix,omitempty"`
	ClipSkip          int      `json:"clip_skip,omitempty"`
	PostProcessing    []string `json:"post_processing,omitempty"`
	Loras             []Lora   `json:"loras,omitempty"`
	// Some servers put the source image inside the payload rather than at
	// the top level of the pop response; both are read.
	SourceImage      string `json:"source_image,omitempty"`
	SourceProcessing string `json:"source_processing,omitempty"`
	SourceMask       string `json:"source_mask,omitempty"`
}

// ImagePopResponse is the answer to an image pop. With no job ID is nil and
// Skipped says why.
type ImagePopResponse struct {
	ID               *string         `json:"id"`
	IDs              []string        `json:"ids"`
	Model            string          `json:"model"`
	Payload          ImagePayload    `json:"payload"`
	Skipped          json.RawMessage `json:"skipped,omitempty"`
	TTL              float64         `json:"ttl,omitempty"` // seconds
	R2Upload         string          `json:"r2_upload,omitempty"`
	R2Uploads        []string        `json:"r2_uploads,omitempty"`
	SourceImage      string          `json:"source_image,omitempty"`
	SourceProcessing string          `json:"source_processing,omitempty"`
	SourceMask       string          `json:"source_mask,omitempty"`
}

// jobIDs returns the popped job ids: ids when given, else id, else none.
func (r *ImagePopResponse) jobIDs() []string { return popIDs(r.ID, r.IDs) }

// TextPayload is the "payload" of a text pop response (KoboldAI parameters).
type TextPayload struct {
	Prompt           string `json:"prompt"`
	N                int    `json:"n,omitempty"`
	MaxLength        int    `json:"max_length"`
	MaxContextLength int    `json:"max_context_length"`
	KoboldSampling
	Seed Seed `json:"seed"`
}

// TextPopResponse is the answer to a text pop. Softprompt is always present
// on the AI Horde (the KoboldAI bridge reads it without a default).
type TextPopResponse struct {
	ID         *string         `json:"id"`
	IDs        []string        `json:"ids"`
	Model      string          `json:"model"`
	Payload    TextPayload     `json:"payload"`
	Softprompt *string         `json:"softprompt"`
	Skipped    json.RawMessage `json:"skipped,omitempty"`
	TTL        float64         `json:"ttl,omitempty"`
}

// jobIDs returns the popped job ids: ids when given, else id, else none.
func (r *TextPopResponse) jobIDs() []string { return popIDs(r.ID, r.IDs) }

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

// ImageSubmitRequest is the body of POST /api/v2/generate/submit. Generation
// is "R2" after a PUT to the job's r2_upload URL, or the base64 WebP.
type ImageSubmitRequest struct {
	ID          string              `json:"id"`
	Generation  string              `json:"generation"`
	State       string              `json:"state"`
	Seed        int64               `json:"seed"`
	GenMetadata []horde.GenMetadata `json:"gen_metadata,omitempty"`
}

// TextSubmitRequest is the body of POST /api/v2/generate/text/submit.
type TextSubmitRequest struct {
	ID          string              `json:"id"`
	Generation  string              `json:"generation"`
	State       string              `json:"state"`
	Seed        *int64              `json:"seed,omitempty"`
	GenMetadata []horde.GenMetadata `json:"gen_metadata,omitempty"`
}

// SubmitResponse is the answer to a submit: the kudos the worker earned.
type SubmitResponse struct {
	Reward float64 `json:"reward"`
}

// errorBody is the AI Horde error shape.
type errorBody struct {
	Message string `json:"message"`
	RC      string `json:"rc"`
}
