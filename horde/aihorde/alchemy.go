package aihorde

import (
	"encoding/json"
	"slices"
	"time"
)

// Alchemy: the AI Horde's /v2/interrogate routes (horde/apis/v2/stable.py
// Interrogate*, its models in horde/apis/models/stable_v2.py). A request
// names an image and the forms to run on it; an alchemist ("interrogation"
// worker) pops forms it offers and submits each form's result.

// WorkerTypeAlchemy is the AI Horde's type of an alchemist worker
// (/v2/workers "type").
const WorkerTypeAlchemy = "interrogation"

// The alchemy forms hordebot serves: the three that describe an image and
// the post-processors, whose result is an image.
const (
	FormCaption       = "caption"
	FormInterrogation = "interrogation"
	FormNSFW          = "nsfw"

	FormRealESRGANx4      = "RealESRGAN_x4plus"
	FormRealESRGANx2      = "RealESRGAN_x2plus"
	FormRealESRGANx4Anime = "RealESRGAN_x4plus_anime_6B"
	FormNMKDSiax          = "NMKD_Siax"
	FormAnimeSharp        = "4x_AnimeSharp"
	FormGFPGAN            = "GFPGAN"
	FormCodeFormers       = "CodeFormers"
	FormStripBackground   = "strip_background"
)

// TextForms are the forms whose result is JSON about the image.
var TextForms = []string{FormCaption, FormInterrogation, FormNSFW}

// PostProcessorForms are the forms whose result is an image (the AI
// Horde's KNOWN_POST_PROCESSORS that hordebot serves).
var PostProcessorForms = []string{
	FormRealESRGANx4, FormRealESRGANx2, FormRealESRGANx4Anime, FormNMKDSiax, FormAnimeSharp,
	FormGFPGAN, FormCodeFormers, FormStripBackground,
}

// Upscalers are the post-processors that enlarge the image, by factor.
var Upscalers = map[string]int{
	FormRealESRGANx4: 4, FormRealESRGANx2: 2, FormRealESRGANx4Anime: 4, FormNMKDSiax: 4, FormAnimeSharp: 4,
}

// IsAlchemyForm reports whether name is a form hordebot serves.
func IsAlchemyForm(name string) bool {
	return slices.Contains(TextForms, name) || IsPostProcessor(name)
}

// IsPostProcessor reports whether form's result is an image.
func IsPostProcessor(form string) bool { return slices.Contains(PostProcessorForms, form) }

// Alchemy limits and defaults, as the AI Horde has them.
const (
	// FormTTL is the time an alchemist has for a form
	// (get_interrogation_form_expiry_date: 3 minutes).
	FormTTL = 3 * time.Minute
	// TileSide is the side of the tiles an image is counted in
	// (calculate_image_tiles); MaxTiles bounds a source image (the AI Horde
	// refuses more than 255: SourceImageResolutionExceeded) and a worker's
	// max_tiles (1..256, default 16).
	TileSide         = 512
	MaxTiles         = 255
	MaxWorkerTiles   = 256
	DefaultMaxTiles  = 16
	MaxSourceImageMB = 5 // a source image's size (SourceImageSizeExceeded)
)

// Tiles is how many 512x512 tiles an image of w x h counts as.
func Tiles(w, h int) int {
	return ((w + TileSide - 1) / TileSide) * ((h + TileSide - 1) / TileSide)
}

// InterrogationForm is one form of a request: its name and its payload
// (free strings: the AI Horde passes them to the worker as they are).
type InterrogationForm struct {
	Name    string            `json:"name"`
	Payload map[string]string `json:"payload,omitempty"`
}

// InterrogationRequest is the body of POST /interrogate/async
// (ModelInterrogationInputStable). SourceImage is a URL or base64;
// SlowWorkers defaults to true.
type InterrogationRequest struct {
	Forms          []InterrogationForm `json:"forms"`
	SourceImage    string              `json:"source_image"`
	TrustedWorkers bool                `json:"trusted_workers"`
	SlowWorkers    bool                `json:"slow_workers"`
	// ExtraSlowWorkers is horde_sdk's; alchemists have no such choice.
	ExtraSlowWorkers bool   `json:"extra_slow_workers"`
	Webhook          string `json:"webhook,omitempty"`
}

// NewInterrogationRequest is a request with the AI Horde's defaults.
func NewInterrogationRequest() InterrogationRequest {
	return InterrogationRequest{SlowWorkers: true}
}

// InterrogationAsyncResponse is the 202 answer of /interrogate/async
// (RequestInterrogationResponse).
type InterrogationAsyncResponse struct {
	ID      string `json:"id"`
	Message string `json:"message,omitempty"`
	// Kudos is hordebot's: what the request holds against the requester.
	Kudos float64 `json:"kudos"`
}

// InterrogationStatus is the answer of GET and DELETE
// /interrogate/status/{id}: the state of the whole (waiting, processing,
// done, faulted, partial) and of each form.
type InterrogationStatus struct {
	State string                    `json:"state"`
	Forms []InterrogationFormStatus `json:"forms"`
}

// InterrogationFormStatus is one form's state and, once done, its result:
// {"caption": "..."}, {"interrogation": {...}}, {"nsfw": true} or
// {"<post-processor>": "<image URL>"}.
type InterrogationFormStatus struct {
	Form   string          `json:"form"`
	State  string          `json:"state"`
	Result json.RawMessage `json:"result,omitempty"`
}

// InterrogationPopRequest is an alchemist's pop body (InterrogationPopInput).
type InterrogationPopRequest struct {
	Name              string   `json:"name"`
	PriorityUsernames []string `json:"priority_usernames"`
	Forms             []string `json:"forms"`
	Amount            int      `json:"amount"`
	BridgeAgent       string   `json:"bridge_agent"`
	BridgeVersion     int      `json:"bridge_version,omitempty"` // old AI-Horde-Worker; ignored
	Threads           int      `json:"threads"`
	MaxTiles          int      `json:"max_tiles"`
	// AnnotationTypes is horde_sdk's, for a form hordebot does not serve.
	AnnotationTypes []string `json:"annotation_types,omitempty"`
}

// NewInterrogationPopRequest is a pop with the AI Horde's defaults.
func NewInterrogationPopRequest() InterrogationPopRequest {
	return InterrogationPopRequest{Amount: 1, Threads: 1, MaxTiles: DefaultMaxTiles, BridgeAgent: "unknown:0:unknown"}
}

// InterrogationPopForm is one popped form (InterrogationPopFormPayload):
// SourceImage is a URL to GET the image from; R2Upload, for a
// post-processor, the URL to PUT the resulting image to.
type InterrogationPopForm struct {
	ID          string            `json:"id"`
	Form        string            `json:"form"`
	Payload     map[string]string `json:"payload,omitempty"`
	SourceImage string            `json:"source_image"`
	R2Upload    string            `json:"r2_upload,omitempty"`
}

// InterrogationPopResponse is the answer of /interrogate/pop: the forms,
// or none and why (skipped).
type InterrogationPopResponse struct {
	Forms   []InterrogationPopForm `json:"forms"`
	Skipped map[string]int         `json:"skipped"`
}

// InterrogationSubmit is an alchemist's submit: the form's id, its result
// keyed by form name ({"caption": "..."}; a post-processor's "R2" after
// the PUT to r2_upload, or its base64 image) and the state (ok, faulted).
type InterrogationSubmit struct {
	ID     string                     `json:"id"`
	Result map[string]json.RawMessage `json:"result"`
	State  string                     `json:"state"`
}

// InterrogationDetails is an interrogation form's result, under the key
// "interrogation": phrases like the image, ranked, in the categories of
// the CLIP interrogator (horde_sdk's AlchemyInterrogationDetails).
type InterrogationDetails struct {
	Tags       []InterrogationItem `json:"tags"`
	Sites      []InterrogationItem `json:"sites"`
	Artists    []InterrogationItem `json:"artists"`
	Flavors    []InterrogationItem `json:"flavors"`
	Mediums    []InterrogationItem `json:"mediums"`
	Movements  []InterrogationItem `json:"movements"`
	Techniques []InterrogationItem `json:"techniques"`
}

// InterrogationItem is one phrase of an interrogation and how well it
// fits the image (0..1; higher is better).
type InterrogationItem struct {
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

// NewInterrogationDetails is details with every category an empty list,
// as clients that iterate them expect.
func NewInterrogationDetails() InterrogationDetails {
	return InterrogationDetails{
		Tags: []InterrogationItem{}, Sites: []InterrogationItem{}, Artists: []InterrogationItem{},
		Flavors: []InterrogationItem{}, Mediums: []InterrogationItem{}, Movements: []InterrogationItem{},
		Techniques: []InterrogationItem{},
	}
}
