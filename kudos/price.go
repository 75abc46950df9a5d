package kudos

import "math"

// secondOrderSamplers evaluate the model twice per step, so their steps count double.
var secondOrderSamplers = map[string]bool{
	"k_dpm_2": true, "k_dpm_2_a": true, "k_heun": true, "k_dpmpp_2s_a": true, "k_dpmpp_sde": true,
}

// ImagePrice is what prices an image item.
type ImagePrice struct {
	Width, Height, Steps int
	Sampler              string
	PostProcessors       int  // each post-processor adds 20%
	Img2Img              bool // source images cost a little more to send
	Loras                int  // each LoRA adds 10%
}

// ImageCost is the kudos cost of one image item. A 512x512, 50-step image
// costs 10, as on the AI Horde; cost grows linearly with steps and a little
// faster than linearly with megapixels (large images need more memory).
func ImageCost(p ImagePrice) int64 {
	steps := float64(p.Steps)
	if secondOrderSamplers[p.Sampler] {
		steps *= 2
	}
	mp := float64(p.Width*p.Height) / (512 * 512)
	cost := 10 * math.Pow(mp, 1.1) * steps / 50
	cost *= 1 + 0.2*float64(p.PostProcessors) + 0.1*float64(p.Loras)
	if p.Img2Img {
		cost *= 1.1
	}
	return atLeastOne(cost)
}

// TextCost is the kudos cost of one text item: it grows with the tokens to
// generate and, more slowly, with the context the worker must read.
func TextCost(maxLength, maxContextLength int) int64 {
	cost := float64(maxLength)/40 + float64(maxContextLength)/1024
	return atLeastOne(cost)
}

func atLeastOne(cost float64) int64 {
	c := int64(math.Ceil(cost - 1e-9))
	if c < 1 {
		return 1
	}
	return c
}
