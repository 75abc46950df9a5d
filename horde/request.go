package horde

import "time"

// RequestKind is what a request generates.
type RequestKind string

// The request kinds.
const (
	KindImage RequestKind = "image"
	KindText  RequestKind = "text"
)

// RequestState is the lifecycle state of a request as a whole.
type RequestState string

// Request states. A request is finished when it is done, faulted or cancelled.
const (
	RequestWaiting    RequestState = "waiting"    // no item is being processed yet
	RequestProcessing RequestState = "processing" // at least one item is popped or done, some remain
	RequestDone       RequestState = "done"
	RequestFaulted    RequestState = "faulted" // more than MaxFaults faulted jobs, or expired
	RequestCancelled  RequestState = "cancelled"
)

// Finished reports whether no more work will happen on a request in state s.
func (s RequestState) Finished() bool {
	return s == RequestDone || s == RequestFaulted || s == RequestCancelled
}

// Limits on a request's life. The defaults and limits of its parameters are
// the AI Horde's, in horde/aihorde.
const (
	MaxFaults   = 2                // a request with more faulted jobs than this is faulted
	ExpireAfter = 20 * time.Minute // a request never popped for this long expires
)

// Lora is a LoRA the request wants applied.
type Lora struct {
	Name      string  `json:"name"`
	Model     float64 `json:"model,omitempty"`
	Clip      float64 `json:"clip,omitempty"`
	IsVersion bool    `json:"is_version,omitempty"`
}

// ImageParams are the generation parameters of an image request.
type ImageParams struct {
	Width             int      `json:"width"`
	Height            int      `json:"height"`
	Steps             int      `json:"steps"`
	SamplerName       string   `json:"sampler_name"`
	CFGScale          float64  `json:"cfg_scale"`
	Seed              string   `json:"seed,omitempty"` // as on the AI Horde: any string; hashed to an int when not numeric
	SeedVariation     int      `json:"seed_variation,omitempty"`
	DenoisingStrength float64  `json:"denoising_strength,omitempty"`
	Karras            bool     `json:"karras,omitempty"`
	Tiling            bool     `json:"tiling,omitempty"`
	HiresFix          bool     `json:"hires_fix,omitempty"`
	ClipSkip          int      `json:"clip_skip,omitempty"`
	PostProcessing    []string `json:"post_processing,omitempty"`
	Loras             []Lora   `json:"loras,omitempty"`
	SourceImage       string   `json:"source_image,omitempty"`      // img2img / inpainting source (base64 or URL)
	SourceProcessing  string   `json:"source_processing,omitempty"` // txt2img (default), img2img, inpainting, outpainting
	SourceMask        string   `json:"source_mask,omitempty"`
}

// Pixels is width*height.
func (p ImageParams) Pixels() int { return p.Width * p.Height }

// NeedsImg2Img reports whether the request needs a worker that allows img2img.
func (p ImageParams) NeedsImg2Img() bool {
	return p.SourceImage != "" && (p.SourceProcessing == "" || p.SourceProcessing == "img2img")
}

// NeedsPainting reports whether the request needs a worker that allows inpainting.
func (p ImageParams) NeedsPainting() bool {
	return p.SourceProcessing == "inpainting" || p.SourceProcessing == "outpainting"
}

// TextParams are the generation parameters of a text request.
type TextParams struct {
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

// Request is what a user asked for: N items of one kind. Each item becomes a
// Job when a worker pops it.
type Request struct {
	ID     string // uuid; also the secret that check/status/cancel need
	Kind   RequestKind
	UserID int64
	Prompt string // for images the AI Horde form "positive ### negative"
	Image  *ImageParams
	Text   *TextParams
	Models []string // any of these; empty means any model
	N      int

	NSFW            bool
	TrustedWorkers  bool     // only trusted workers may serve it
	Workers         []string // worker ids: an allow-list, or a deny-list when WorkerBlacklist
	WorkerBlacklist bool
	R2              bool // results as URLs (true, default) or base64 inline in status
	Shared          bool
	ClientAgent     string
	Source          string // "api" or "discord"

	Kudos     int64 // cost of the whole request (all N items)
	Priority  int64 // requester's kudos at submit time
	CreatedAt time.Time
	State     RequestState
	Faults    int    // faulted jobs so far
	Reason    string // why a request faulted or was cancelled
}

// Item states inside a request.
type ItemState string

// Item states.
const (
	ItemWaiting    ItemState = "waiting"
	ItemProcessing ItemState = "processing"
	ItemDone       ItemState = "done"
	ItemFaulted    ItemState = "faulted" // only when the whole request faulted
	ItemCancelled  ItemState = "cancelled"
)
