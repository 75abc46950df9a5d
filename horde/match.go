package horde

import "slices"

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
	numSkipReasons
)

var skipNames = [numSkipReasons]string{
	reasonModels: SkipModels, reasonMaxPixels: SkipMaxPixels, reasonNSFW: SkipNSFW,
	reasonBlacklist: SkipBlacklist, reasonUntrusted: SkipUntrusted, reasonWorkerID: SkipWorkerID,
	reasonKudos: SkipKudos, reasonImg2Img: SkipImg2Img, reasonPainting: SkipPainting,
	reasonPostProcessing: SkipPostProcessing, reasonLora: SkipLora, reasonMaxLength: SkipMaxLength,
	reasonMaxContextLength: SkipMaxContextLength,
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
// can), from their static properties only: models, size, content, flags and
// the request's worker lists. It ignores the worker's maintenance and pause
// and the requester's kudos, which change over time.
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
	}
	if p := req.Text; p != nil {
		if p.MaxLength > w.MaxLength {
			return reasonMaxLength
		}
		if p.MaxContextLength > w.MaxContextLength {
			return reasonMaxContextLength
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
