package kudos

import "math"

// Prices, as the AI Horde charges them. The AI Horde prices an image by a
// small trained model of how long the job takes, scaled so that its basis
// (512x512, 50 steps, k_euler) is worth 10 kudos plus 1; hordebot does not
// ship those weights but a curve of its own fitted to that model's quotes
// (within 20% over the usual sizes and steps: kudos/price_test.go holds the
// table). On that come the AI Horde's extras: a second-order sampler's
// steps count double, LoRAs cost 3 kudos each and textual inversions 1, the
// model's baseline multiplies (SDXL 2, Stable Cascade 4, Flux 8), and its
// "burn": a source image +30%, each upscaler +5%, the horde tax of 1 kudos
// per item, +20% when the request refuses slow workers, +10% for a worker
// deny-list. A request also pays a horde tax of 1 kudos (5 more per extra
// source image), spread over its items. Text costs per token by model
// size and the context it reads, as the AI Horde's text reward does.
//
// The price is what each item costs its requester; PaymentRules charge it
// and pay the worker what was charged.

// secondOrderSamplers evaluate the model twice per step, so their steps count double.
var secondOrderSamplers = map[string]bool{
	"k_dpm_2": true, "k_dpm_2_a": true, "k_heun": true, "k_dpmpp_2s_a": true, "k_dpmpp_sde": true,
}

// adaptiveSampler chooses its own steps; the AI Horde counts it as 40 steps,
// and hordebot as 60 (it evaluates more than once per step: fitted).
const adaptiveSampler = "k_dpm_adaptive"

// faceFixers are post-processors that touch only faces: +10% each. The
// other post-processors add 20% each, as the AI Horde's legacy rule does.
var faceFixers = map[string]bool{"GFPGAN": true, "CodeFormers": true}

// upscalerPixelKudos is what an upscaler adds per 512x512 of the image it
// upscales, on top of its 20% (fitted: large upscales take long).
var upscalerPixelKudos = map[string]float64{
	"RealESRGAN_x4plus": 2.3, "RealESRGAN_x2plus": 1.2, "NMKD_Siax": 0.7, "4x_AnimeSharp": 0.7,
	"RealESRGAN_x4plus_anime_6B": 0,
}

// baselineMultipliers multiply an image's kudos by its model's baseline, as
// the AI Horde pays for the larger models.
var baselineMultipliers = map[string]float64{
	"stable_diffusion_xl": 2, "stable_cascade": 4, "flux_1": 8,
}

// Price extras, as the AI Horde charges them.
const (
	loraKudos             = 3   // per LoRA, for the time lost downloading it
	tiKudos               = 1   // once, when textual inversions are used
	hordeTaxPerItem       = 1.0 // the AI Horde's burn per generation
	hordeTaxPerRequest    = 1.0 // the AI Horde's tax per request
	extraSourceImageKudos = 5.0 // per extra source image (remix), per request
)

// ImagePrice is what prices an image item: the parameters the AI Horde's
// kudos model reads and the extras it charges for.
type ImagePrice struct {
	Width, Height, Steps int
	Sampler              string
	HiresFix             bool
	// SourceImage is set for img2img, inpainting, outpainting and remix;
	// SourceProcessing says which ("" is img2img when SourceImage is set).
	SourceImage      bool
	SourceProcessing string
	// Denoising is the img2img strength (0: the default 0.75).
	Denoising float64
	// ControlNet is set when the request names a control_type;
	// ReturnControlMap when it asks only for the control map.
	ControlNet, ReturnControlMap bool
	PostProcessors               []string
	Loras                        int
	TIs                          int // textual inversions
	// Baseline is the requested model's baseline (stable_diffusion_xl,
	// stable_cascade, flux_1 cost more); "" prices as Stable Diffusion 1.
	Baseline string
	// ExtraSourceImages (remix) add to the request's horde tax.
	ExtraSourceImages int
	// FastWorkersOnly is a request that refuses slow workers
	// (slow_workers: false); WorkerDenyList one whose workers list is a
	// deny-list (worker_blacklist).
	FastWorkersOnly, WorkerDenyList bool
}

// ImageCost is the kudos each item of an image request of n items costs.
// A 512x512, 30-step k_euler_a image costs 10, a 50-step one 13, a 64x64
// 5-step one 5 (the AI Horde quotes 5); a 64x64 500-step one 84 (94): steps
// are never almost free.
func ImageCost(p ImagePrice, n int) int64 {
	mp := float64(p.Width*p.Height) / (512 * 512)
	steps := float64(p.Steps)
	switch {
	case p.Sampler == adaptiveSampler:
		steps = 60
	case secondOrderSamplers[p.Sampler]:
		steps *= 2
	}
	k := imageCurve(mp, steps)
	if p.HiresFix {
		// A second pass over the steps at full resolution (fitted: it
		// grows with the square of the steps up to 100, then linearly).
		k += 0.0035 * steps * min(steps, 100)
	}
	if p.SourceImage {
		switch {
		case p.ControlNet && !p.ReturnControlMap:
			k *= 2.2
		case p.SourceProcessing == "inpainting":
			k *= 1.25
		case p.SourceProcessing == "outpainting":
			k *= 1.4
		default: // img2img, remix: fewer steps run at a lower strength
			d := p.Denoising
			if d <= 0 {
				d = 0.75
			}
			k *= 0.75 + 0.3*min(d, 1)
		}
	}
	for _, pp := range p.PostProcessors {
		if faceFixers[pp] {
			k *= 1.1
		} else {
			k *= 1.2
		}
		k += upscalerPixelKudos[pp] * mp
	}
	k += float64(loraKudos * p.Loras)
	if p.TIs > 0 {
		k += tiKudos
	}
	if m, ok := baselineMultipliers[p.Baseline]; ok {
		k *= m
		if p.Baseline == "stable_cascade" && p.HiresFix {
			k *= 7.0 / 4 // Stable Cascade's two passes
		}
	}
	// The AI Horde's burn: what the horde spends beyond the worker's time.
	if p.SourceImage {
		k *= 1.3
	}
	for _, pp := range p.PostProcessors {
		if _, ok := upscalerPixelKudos[pp]; ok {
			k *= 1.05
		}
	}
	k += hordeTaxPerItem
	if p.FastWorkersOnly {
		k *= 1.2
	}
	if p.WorkerDenyList {
		k *= 1.1
	}
	return perItem(k, hordeTaxPerRequest+extraSourceImageKudos*float64(max(p.ExtraSourceImages, 0)), n)
}

// imageCurve is hordebot's fit of the AI Horde's kudos model for a
// txt2img image of mp times 512x512 at steps (k_euler_a, CFG 7.5): a fixed
// part that grows with the pixels (loading, VAE decoding), a part per step
// that grows with the pixels and flattens past 2048x2048, and a small
// convex part in steps (long runs slow down, mostly on small images).
func imageCurve(mp, steps float64) float64 {
	fixed := 2.667 + 0.4598*math.Pow(mp, 1.902)
	perStep := 0.09523 + 0.05270*math.Pow(mp, 1.163)/(1+0.00103*math.Pow(mp, 2.651))
	convex := 0.000126 * steps * steps / (1 + 0.3599*mp)
	return fixed + perStep*steps + convex
}

// TextPrice is what prices a text item.
type TextPrice struct {
	MaxLength, MaxContextLength int
	// PromptChars is the prompt's length in characters: the context the
	// worker reads is about a token per 4 characters (at least 20 tokens,
	// at most MaxContextLength).
	PromptChars int
	// ModelBillions is the requested model's size in billions of
	// parameters; 0 prices as 13B, as the AI Horde does for a request that
	// names no model.
	ModelBillions float64
}

// TextCost is the kudos each item of a text request of n items costs, by
// the AI Horde's text reward: tokens x model size / 125, with a bonus for
// models above 13B, times a context multiplier, 1.2 + 2.2^log2(context /
// 1024) (about 1.2 for a short prompt, 2.2 at 1024 tokens, 11.8 at 8192;
// between 0.1 and 30), plus the horde taxes. The tokens are max_length (a
// worker may stop early; the request is held for all of them). 80 tokens
// from a short prompt on a 13B model cost 12.
func TextCost(p TextPrice, n int) int64 {
	params := p.ModelBillions
	if params <= 0 {
		params = 13
	}
	context := max((p.PromptChars+3)/4, 20)
	if p.MaxContextLength > 0 {
		context = min(context, p.MaxContextLength)
	}
	contextMultiplier := min(max(1.2+math.Pow(2.2, math.Log2(float64(context)/1024)), 0.1), 30)
	bonus := math.Pow(max(params, 13)/13, 0.2)
	k := float64(max(p.MaxLength, 0)) * bonus * params / 125 * contextMultiplier
	return perItem(k+hordeTaxPerItem, hordeTaxPerRequest, n)
}

// perItem spreads a request's tax over its n items and rounds as the AI
// Horde's quotes do; an item costs at least 1.
func perItem(item, requestTax float64, n int) int64 {
	c := int64(math.Round(item + requestTax/float64(max(n, 1))))
	return max(c, 1)
}
