package aihorde

import "time"

// Image request parameters ("params" of POST /generate/async): the AI
// Horde's defaults and ranges (ModelGenerationInputStable).
const (
	DefaultWidth  = 512
	DefaultHeight = 512
	MinSide       = 64   // width and height
	MaxSide       = 3072 // width and height
	SideMultiple  = 64   // width and height are multiples of it

	DefaultSteps = 30
	MinSteps     = 1
	MaxSteps     = 500

	DefaultN = 1 // images (or texts) a request asks for
	MinN     = 1
	MaxN     = 20

	DefaultSampler  = "k_euler_a"
	DefaultCFGScale = 7.5
	MinCFGScale     = 0.0
	MaxCFGScale     = 100.0

	// DefaultDenoisingStrength is the img2img strength a worker's payload
	// carries when the request set none (the AI Horde's example value, which
	// its workers default to).
	DefaultDenoisingStrength = 0.75
	MinDenoisingStrength     = 0.01
	MaxDenoisingStrength     = 1.0 // also hires_fix_denoising_strength's range
	MinFacefixerStrength     = 0.0
	MaxFacefixerStrength     = 1.0

	MinSeedVariation = 1
	MaxSeedVariation = 1000
	MinClipSkip      = 1
	MaxClipSkip      = 12

	DefaultLoraStrength = 1.0 // a LoRA's model and clip strengths
	MinLoraStrength     = -5.0
	MaxLoraStrength     = 5.0
	MaxLoras            = 5

	// MaxExtraSourceImages bounds extra_source_images (remix), as on the AI
	// Horde; DefaultExtraSourceStrength is an extra image's strength when it
	// sets none.
	MaxExtraSourceImages       = 5
	DefaultExtraSourceStrength = 1.0

	// DefaultMaxPixels is a popping image worker's max_pixels when it sends none.
	DefaultMaxPixels = 512 * 512
)

// KnownSamplers are the image samplers the AI Horde's workers know (its
// ModelPayloadRootStable sampler_name enum). The API takes any sampler name
// of at most MaxSamplerLength, as the AI Horde does; the Discord commands
// offer and accept these.
var KnownSamplers = []string{
	"k_euler_a", "k_euler", "k_lms", "k_heun", "k_dpm_2", "k_dpm_2_a", "k_dpm_fast", "k_dpm_adaptive",
	"k_dpmpp_2s_a", "k_dpmpp_2m", "k_dpmpp_sde", "dpmsolver", "lcm", "DDIM",
}

// Text request parameters ("params" of POST /generate/text/async, KoboldAI
// names). The defaults are the AI Horde's; hordebot accepts wider lengths.
const (
	DefaultMaxLength        = 80
	MinMaxLength            = 16
	MaxMaxLength            = 4096
	DefaultMaxContextLength = 1024
	MinMaxContextLength     = 80
	MaxMaxContextLength     = 131072

	MinTemperature = 0.0
	MaxTemperature = 5.0
	MinTopP        = 0.001
	MaxTopP        = 1.0
	MinTopK        = 0
	MaxTopK        = 200
	MinRepPen      = 1.0
	MaxRepPen      = 3.0
	MinRepPenRange = 0
	MaxRepPenRange = 4096
	// The other samplers' ranges, the AI Horde's.
	MinRepPenSlope      = 0.0
	MaxRepPenSlope      = 10.0
	MinUnitSampler      = 0.0 // tfs, top_a, typical, min_p
	MaxUnitSampler      = 1.0
	MinSmoothingFactor  = 0.0
	MaxSmoothingFactor  = 10.0
	MinDynatempRange    = 0.0
	MaxDynatempRange    = 5.0
	MinDynatempExponent = 0.0
	MaxDynatempExponent = 5.0
	// FullSamplerOrder is how many distinct samplers a sampler_order must
	// name (else MissingFullSamplerOrder, as on the AI Horde).
	FullSamplerOrder = 7

	MaxStopSequences      = 32
	MaxStopSequenceLength = 256
	MaxSoftpromptLength   = 255

	// DefaultWorkerMaxLength and DefaultWorkerMaxContextLength are a popping
	// text worker's max_length and max_context_length when it sends none.
	DefaultWorkerMaxLength        = 512
	DefaultWorkerMaxContextLength = 2048
)

// Limits on what any request carries.
const (
	MaxPromptLength   = 10000 // characters
	MaxRequestWorkers = 5     // the "workers" allow- or deny-list, as on the AI Horde
	MaxRequestModels  = 100
	MaxPostProcessors = 10
	MaxSeedLength     = 256
	MaxSamplerLength  = 64
	MaxNameLength     = 255 // a model, worker, post-processor, LoRA or metadata name
)

// Limits and defaults of a worker's pop and submit.
const (
	DefaultThreads       = 1
	MaxThreads           = 100
	DefaultPopAmount     = 1
	MaxPopAmount         = 20
	DefaultBridgeAgent   = "unknown:0:unknown"
	MaxBridgeAgentLength = 1000
	MaxBlacklist         = 1000
	MaxPopModels         = 1000
	MaxPriorityUsernames = 100
	MaxGenMetadata       = 32
	MaxJobIDLength       = 64
)

// TextTTL is the time a worker has for a text job.
const TextTTL = 150 * time.Second

// ImageTTL is the time a worker has for an image job: about
// 30 + steps*2*(width*height/512²) seconds, at least 150 s.
func ImageTTL(width, height, steps int) time.Duration {
	mp := float64(width*height) / (512 * 512)
	secs := 30 + float64(steps)*2*mp
	if secs < 150 {
		secs = 150
	}
	return time.Duration(secs * float64(time.Second))
}
