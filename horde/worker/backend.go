package worker

import (
	"context"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// Backend generates one job. Implementations must be safe for concurrent
// use (the loop runs Config.Threads jobs at once), must honour ctx (it ends
// at the job's TTL) and return an error (never a zero Result) when they
// cannot produce the output: the loop then submits the job as "faulted" so
// the server re-queues it.
type Backend interface {
	Generate(ctx context.Context, job Job) (Result, error)
}

// BatchBackend is a Backend that can make several images of one job's
// parameters in one call, as a batching AI Horde worker does with a pop of
// n_iter images (several ids, one payload). GenerateBatch returns exactly n
// results, image i made with seed job.BatchSeed(i) when job.SeedSet (each
// Result says the seed it used), or an error; a backend that can batch only
// consecutive seeds makes the images one call each when the step is not 1.
// The loop uses it for image pops of more than one id; a Backend without it
// runs the ids one by one.
type BatchBackend interface {
	Backend
	GenerateBatch(ctx context.Context, job Job, n int) ([]Result, error)
}

// Job is one popped job, as a backend sees it.
type Job struct {
	ID    string
	Kind  aihorde.Kind // aihorde.KindImage or aihorde.KindText
	Model string
	// Prompt is the whole prompt; for images the AI Horde form
	// "positive ### negative" (see aihorde.SplitPrompt).
	Prompt string
	// Seed is the seed to use; SeedSet is false when the server sent none
	// (text jobs usually), in which case backends pick their own.
	Seed    int64
	SeedSet bool
	// SeedStep is the seed difference from one image of a batch to the
	// next (0 is 1; see BatchSeed).
	SeedStep int64
	Image    *ImageParams // image jobs
	Text     *TextParams  // text jobs
	TTL      time.Duration
	// Preview, when not nil, takes partial renders of an image job while
	// the backend works on it (live previews: Config.Previews); nil when
	// the horde takes none. It never blocks.
	Preview PreviewFunc
}

// BatchSeed is the seed of image i of a batch of job: Seed + i*SeedStep.
func (j Job) BatchSeed(i int) int64 {
	step := j.SeedStep
	if step == 0 {
		step = 1
	}
	return j.Seed + int64(i)*step
}

// ImageParams are the parameters of an image job.
type ImageParams struct {
	Width             int
	Height            int
	Steps             int
	SamplerName       string // AI Horde names: k_euler, k_euler_a, k_dpmpp_2m, ...
	CFGScale          float64
	DenoisingStrength float64
	Karras            bool
	Tiling            bool
	HiresFix          bool
	// HiresFixDenoisingStrength is the hires fix's second pass strength
	// (0: the backend's default).
	HiresFixDenoisingStrength float64
	ClipSkip                  int
	PostProcessing            []string
	Loras                     []aihorde.Lora
	// SourceImage is the decoded img2img source (any format image.Decode
	// knows, usually WebP); nil for txt2img. SourceProcessing is "img2img",
	// "inpainting" or "outpainting" when it is set.
	SourceImage      []byte
	SourceProcessing string
	SourceMask       []byte
	// ExtraSourceImages are a remix's further images (SourceProcessing
	// "remix", Stable Cascade), decoded like SourceImage, in order.
	ExtraSourceImages []ExtraSourceImage
}

// ExtraSourceImage is one further image of a remix and its strength (0..1).
type ExtraSourceImage struct {
	Image    []byte
	Strength float64
}

// TextParams are the parameters of a text job (KoboldAI names).
type TextParams struct {
	MaxLength        int // tokens to generate
	MaxContextLength int // tokens of prompt the model may see
	KoboldSampling
	Softprompt string
}

// KoboldSampling are the KoboldAI sampling settings a text job carries
// unchanged from the horde's payload to a KoboldAI backend; zero is the
// backend's default. The JSON names are KoboldAI's, used by both.
type KoboldSampling = aihorde.KoboldSampling

// Result is a backend's output for one job.
type Result struct {
	// Image is the encoded image (WebP) for image jobs.
	Image []byte
	// ContentType of Image; "image/webp" when empty.
	ContentType string
	// Text is the generated text for text jobs.
	Text string
	// Seed is the seed actually used (reported back on submit).
	Seed int64
	// State is the AI Horde result state: aihorde.StateOK (the default when
	// empty) or aihorde.StateCensored.
	State string
	// Metadata is sent as gen_metadata.
	Metadata []aihorde.GenMetadata
}
