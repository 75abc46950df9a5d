package horde

import (
	"math"
	"slices"
)

// Skip reasons: the keys of Skipped, as the AI Horde names them.
const (
	SkipModels           = "models"
	SkipMaxPixels        = "max_pixels"
	SkipNSFW             = "nsfw"
	SkipBlacklist        = "blacklist"
	SkipUntrusted        = "untrusted"
	SkipWorkerID         = "worker_id"
	SkipKudos            = "kudos"
	SkipImg2Img          = "img2img"
	SkipPainting         = "painting"
	SkipPostProcessing   = "post-processing"
	SkipLora             = "lora"
	SkipMaxLength        = "max_length"
	SkipMaxContextLength = "max_context_length"
	SkipPerformance      = "performance"    // too slow for the request (slow_workers, extra_slow_workers)
	SkipStepCount        = "step_count"     // more steps than a limit_max_steps worker takes
	SkipBridgeVersion    = "bridge_version" // a text worker whose backend is not validated (validated_backends)
)

// skipReason is a Skipped key as a small number, so that a pop counts the
// entries it passes over in an array rather than a map.
type skipReason uint8

// The skip reasons; canServeOK means none.
const (
	canServeOK skipReason = iota
	reasonModels
	reasonMaxPixels
	reasonNSFW
	reasonBlacklist
	reasonUntrusted
	reasonWorkerID
	reasonKudos
	reasonImg2Img
	reasonPainting
	reasonPostProcessing
	reasonLora
	reasonMaxLength
	reasonMaxContextLength
	reasonPerformance
	reasonStepCount
	reasonBridgeVersion
	numSkipReasons
)

var skipNames = [numSkipReasons]string{
	reasonModels: SkipModels, reasonMaxPixels: SkipMaxPixels, reasonNSFW: SkipNSFW,
	reasonBlacklist: SkipBlacklist, reasonUntrusted: SkipUntrusted, reasonWorkerID: SkipWorkerID,
	reasonKudos: SkipKudos, reasonImg2Img: SkipImg2Img, reasonPainting: SkipPainting,
	reasonPostProcessing: SkipPostProcessing, reasonLora: SkipLora, reasonMaxLength: SkipMaxLength,
	reasonMaxContextLength: SkipMaxContextLength, reasonPerformance: SkipPerformance,
	reasonStepCount: SkipStepCount, reasonBridgeVersion: SkipBridgeVersion,
}

// String is the reason's Skipped key.
func (r skipReason) String() string {
	if r < numSkipReasons {
		return skipNames[r]
	}
	return ""
}

// skipCounts counts skipped entries by reason.
type skipCounts [numSkipReasons]int

// addTo adds the counts to a Skipped map.
func (c *skipCounts) addTo(s Skipped) {
	for r, n := range c {
		if n > 0 && skipReason(r) != canServeOK {
			s[skipReason(r).String()] += n
		}
	}
}

// canServe reports why worker w can never serve request r (canServeOK if it
// can), from their properties only: models, size, content, flags, speed,
// steps and the request's worker lists. It ignores the worker's maintenance
// and pause and the requester's kudos, which change more often.
func canServe(ws *workerState, r *openRequest) skipReason {
	if len(r.req.Models) > 0 && pickModel(&ws.w, &r.req) == "" {
		return reasonModels
	}
	return canServeModel(ws, r)
}

// canServeModel is canServe for a request already known to name one of the
// worker's models (or none): one found in the worker's model buckets.
func canServeModel(ws *workerState, r *openRequest) skipReason {
	w, req := &ws.w, &r.req
	if len(req.Workers) > 0 {
		listed := slices.Contains(req.Workers, w.ID)
		if listed == req.WorkerBlacklist {
			return reasonWorkerID
		}
	}
	if req.NSFW && !w.NSFW {
		return reasonNSFW
	}
	if req.TrustedWorkers && !w.Trusted {
		return reasonUntrusted
	}
	if p := req.Image; p != nil {
		if p.Pixels() > w.MaxPixels {
			return reasonMaxPixels
		}
		if p.NeedsImg2Img() && !w.AllowImg2Img {
			return reasonImg2Img
		}
		if p.NeedsPainting() && !w.AllowPainting {
			return reasonPainting
		}
		if len(p.PostProcessing) > 0 && !w.AllowPostProcessing {
			return reasonPostProcessing
		}
		if len(p.Loras) > 0 && !w.AllowLora {
			return reasonLora
		}
		if ws.limitMaxSteps && float64(r.steps) > r.stepLimit(ws) {
			return reasonStepCount
		}
		if (req.FastWorkersOnly && ws.slow()) || (ws.extraSlow && !req.ExtraSlowWorkers) {
			return reasonPerformance
		}
	}
	if p := req.Text; p != nil {
		if p.MaxLength > w.MaxLength {
			return reasonMaxLength
		}
		if p.MaxContextLength > w.MaxContextLength {
			return reasonMaxContextLength
		}
		if req.FastWorkersOnly && ws.slow() {
			return reasonPerformance
		}
		if !p.AnyBackend && !ws.validatedBackend {
			return reasonBridgeVersion
		}
	}
	for _, word := range ws.blacklist {
		if r.mentions(word) {
			return reasonBlacklist
		}
	}
	return canServeOK
}

// pickModel returns the model a worker runs request r with: the first of the
// request's models the worker offers, or for a request naming none the
// worker's first model. "" when the worker offers none of the request's models.
func pickModel(w *Worker, req *Request) string {
	if len(req.Models) == 0 {
		if len(w.Models) > 0 {
			return w.Models[0]
		}
		return ""
	}
	for _, m := range req.Models {
		if w.HasModel(m) {
			return m
		}
	}
	return ""
}

// The AI Horde's speed limits: a request with slow_workers=false skips an
// image worker slower than SlowImageSpeed megapixel-steps a second and a
// text worker slower than SlowTextSpeed tokens a second. An image worker
// not measured yet counts as fast and a text worker as slow, as there (the
// AI Horde starts every worker at one megapixel-step, or one token, a
// second). The AI Horde's text threshold is 3 to 5 by the model's size in
// its reference; without one, 5 (its value for models under 13B).
const (
	SlowImageSpeed = 0.5
	SlowTextSpeed  = 5.0
)

// slow reports whether the worker counts as slow for slow_workers=false.
func (ws *workerState) slow() bool { return slowSpeed(ws.w.Kind, ws.w.Performance) }

// slowSpeed reports whether a worker of kind at speed perf counts as slow.
func slowSpeed(kind RequestKind, perf float64) bool {
	if kind == KindText {
		return perf < SlowTextSpeed
	}
	return perf > 0 && perf < SlowImageSpeed
}

// The AI Horde's step limits for a model its reference does not know (or
// with no reference at all): limit_max_steps takes their average.
const (
	DefaultMinSteps = 20
	DefaultMaxSteps = 40
)

// averageSteps is the average of a model's min_steps and max_steps, which a
// limit_max_steps worker does not exceed (Config.StepLimits, else the
// defaults).
func (h *Horde) averageSteps(model string) float64 {
	lo, hi := DefaultMinSteps, DefaultMaxSteps
	if h.cfg.StepLimits != nil {
		if l, m, ok := h.cfg.StepLimits(model); ok {
			lo, hi = l, m
		}
	}
	return float64(lo+hi) / 2
}

// lowestAverageSteps is the smallest averageSteps of models (of the
// default model when there are none).
func (h *Horde) lowestAverageSteps(models []string) float64 {
	if len(models) == 0 {
		return h.averageSteps("")
	}
	low := math.Inf(1)
	for _, m := range models {
		low = min(low, h.averageSteps(m))
	}
	return low
}

// stepLimit is the most (accurate) steps a limit_max_steps worker takes of
// r: as on the AI Horde, a request naming several models is held to the
// lowest average of its models, any other to the lowest of the worker's.
func (r *openRequest) stepLimit(ws *workerState) float64 {
	if len(r.req.Models) > 1 {
		return float64(r.modelSteps)
	}
	return ws.stepLimit
}

// The AI Horde's second-order samplers, whose steps count twice (they run
// the model twice a step), and the one that picks its own steps (counted
// as 40).
var (
	secondOrderSamplers = map[string]bool{"k_heun": true, "k_dpm_2": true, "k_dpm_2_a": true, "k_dpmpp_2s_a": true, "k_dpmpp_sde": true}
	adaptiveSampler     = "k_dpm_adaptive"
)

// accurateSteps is the AI Horde's get_accurate_steps: the steps of an image
// request as its worker feels them.
func accurateSteps(p *ImageParams) float64 {
	if p.SamplerName == adaptiveSampler {
		return 40
	}
	steps := float64(p.Steps)
	if secondOrderSamplers[p.SamplerName] {
		steps *= 2
	}
	return steps
}
