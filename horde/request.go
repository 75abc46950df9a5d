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
	Name      string
	Model     float64
	Clip      float64
	IsVersion bool
}

// ImageParams are the generation parameters of an image request.
type ImageParams struct {
	Width             int
	Height            int
	Steps             int
	SamplerName       string
	CFGScale          float64
	Seed              string // as on the AI Horde: any string; hashed to an int when not numeric
	SeedVariation     int
	DenoisingStrength float64
	// HiresFixDenoisingStrength and FacefixerStrength: zero is not set (the worker's default).
	HiresFixDenoisingStrength float64
	FacefixerStrength         float64
	Karras                    bool
	Tiling                    bool
	HiresFix                  bool
	ClipSkip                  int
	PostProcessing            []string
	Loras                     []Lora
	SourceImage               string // img2img / inpainting source (base64 or URL)
	SourceProcessing          string // txt2img (default), img2img, inpainting, outpainting
	SourceMask                string
	// ExtraSourceImages are the extra images of a remix (Stable Cascade;
	// source_processing "remix"), up to 5.
	ExtraSourceImages []ExtraSourceImage
}

// ExtraSourceImage is an extra image of a remix and its strength.
type ExtraSourceImage struct {
	Image    string // base64 or URL
	Strength float64
}

// Pixels is width*height.
func (p ImageParams) Pixels() int { return p.Width * p.Height }

// NeedsImg2Img reports whether the request needs a worker that allows
// img2img: an img2img or a remix (the AI Horde asks allow_img2img of every
// request with a source image).
func (p ImageParams) NeedsImg2Img() bool {
	return p.SourceImage != "" && (p.SourceProcessing == "" || p.SourceProcessing == "img2img" || p.SourceProcessing == "remix")
}

// NeedsPainting reports whether the request needs a worker that allows inpainting.
func (p ImageParams) NeedsPainting() bool {
	return p.SourceProcessing == "inpainting" || p.SourceProcessing == "outpainting"
}

// TextParams are the generation parameters of a text request: every
// setting of the AI Horde's text params, carried to the worker. A zero
// number, and a nil flag, is not set (the worker's backend default).
type TextParams struct {
	MaxLength        int
	MaxContextLength int
	Temperature      float64
	TopP             float64
	TopK             int
	RepPen           float64
	RepPenRange      int
	StopSequence     []string
	Softprompt       string
	RepPenSlope      float64
	TopA             float64
	Typical          float64
	TFS              float64
	MinP             float64
	SmoothingFactor  float64
	DynatempRange    float64
	DynatempExponent float64
	SamplerOrder     []int
	Singleline       *bool
	Frmtadsnsp       *bool
	Frmtrmblln       *bool
	Frmtrmspch       *bool
	Frmttriminc      *bool
	// UseDefaultBadwordsids: whether the backend bans its default bad words.
	UseDefaultBadwordsids *bool
	// AnyBackend is the request's validated_backends false: workers with
	// any backend may serve it. By default (false) only workers whose
	// bridge_agent is one of ValidatedBackends do, as on the AI Horde.
	AnyBackend bool
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

	Workers []string // worker ids: an allow-list, or a deny-list when WorkerBlacklist

	// The booleans together: a hundred thousand requests may wait in memory.
	NSFW            bool
	TrustedWorkers  bool // only trusted workers may serve it
	WorkerBlacklist bool
	// The AI Horde's worker-speed choices: FastWorkersOnly is its
	// slow_workers=false (slow workers skip the request), ExtraSlowWorkers
	// its extra_slow_workers=true (workers that call themselves extra slow
	// may take it). DisableBatching gives each pop of it one item.
	FastWorkersOnly  bool
	ExtraSlowWorkers bool
	DisableBatching  bool
	R2               bool // results as URLs (true, default) or base64 inline in status
	Shared           bool
	ClientAgent      string
	Source           string // "api" or "discord"
	// Extras are what few requests carry (nil for most): the shared key it
	// was made with and its webhook. Read them with SharedKeyHash and
	// WebhookURL.
	Extras *RequestExtras

	Kudos     int64 // cost of the whole request (all N items)
	Priority  int64 // requester's kudos at submit time
	CreatedAt time.Time
	State     RequestState
	Faults    int    // faulted jobs so far
	Reason    string // why a request faulted or was cancelled
}

// RequestExtras are a request's rarely set fields, kept behind a pointer so
// that the requests without them stay small.
type RequestExtras struct {
	SharedKey string // HashKey of the shared key it was made with; empty: none
	Webhook   string // told of each finished generation; empty: none
	// StyleID and CollectionID are the style (and the collection it was
	// picked from) the request used, counted in their use_count when the
	// request is stored; StyleOwner is the style's creator, paid
	// kudos.StyleReward with the request's first ok result (0: nobody, as
	// for one's own style).
	StyleID      string
	CollectionID string
	StyleOwner   int64
	// Interaction is the Discord interaction the request answers (the
	// bot's record of it, made before its deferral): the write that stores
	// the request links that record, once, so that one interaction queues
	// one request whoever runs it (a replay, a restart, another process).
	// It is not kept with the request.
	Interaction string
}

// kept is x as a stored request keeps it: without the Interaction, which
// only its creation uses; nil when nothing else is set.
func (x *RequestExtras) kept() *RequestExtras {
	if x == nil || x.Interaction == "" {
		return x
	}
	k := *x
	k.Interaction = ""
	if k == (RequestExtras{}) {
		return nil
	}
	return &k
}

// SharedKeyHash is the hash of the shared key r was made with; "" if none.
func (r Request) SharedKeyHash() string {
	if r.Extras == nil {
		return ""
	}
	return r.Extras.SharedKey
}

// StyleOwnerID is the creator of the style r used, who is paid for it; 0
// if none is.
func (r Request) StyleOwnerID() int64 {
	if r.Extras == nil {
		return 0
	}
	return r.Extras.StyleOwner
}

// WebhookURL is r's webhook; "" if none.
func (r Request) WebhookURL() string {
	if r.Extras == nil {
		return ""
	}
	return r.Extras.Webhook
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
