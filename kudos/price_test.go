package kudos_test

import (
	"math"
	"testing"

	"github.com/hordebot/hordebot/kudos"
)

// aiHordeQuotes are what the AI Horde charges for a one-image request on a
// Stable Diffusion 1 model (CFG 7.5, karras): its kudos model's value (the
// v21 model of AI Horde 5.1, computed from its payload inputs), plus 3 per
// LoRA, its burn (x1.3 for a source image, x1.05 per upscaler, +1 per
// image) and its per-request tax of 1. hordebot's curve is its own fit; it
// must stay within 20% of every row.
var aiHordeQuotes = []struct {
	name  string
	price kudos.ImagePrice
	quote float64
}{
	{"64x64 5 k_euler_a", kudos.ImagePrice{Width: 64, Height: 64, Steps: 5, Sampler: "k_euler_a"}, 5.44},
	{"64x64 10 k_euler_a", kudos.ImagePrice{Width: 64, Height: 64, Steps: 10, Sampler: "k_euler_a"}, 5.87},
	{"64x64 20 k_euler_a", kudos.ImagePrice{Width: 64, Height: 64, Steps: 20, Sampler: "k_euler_a"}, 6.72},
	{"64x64 30 k_euler_a", kudos.ImagePrice{Width: 64, Height: 64, Steps: 30, Sampler: "k_euler_a"}, 7.64},
	{"64x64 50 k_euler_a", kudos.ImagePrice{Width: 64, Height: 64, Steps: 50, Sampler: "k_euler_a"}, 9.86},
	{"64x64 100 k_euler_a", kudos.ImagePrice{Width: 64, Height: 64, Steps: 100, Sampler: "k_euler_a"}, 16.31},
	{"64x64 500 k_euler_a", kudos.ImagePrice{Width: 64, Height: 64, Steps: 500, Sampler: "k_euler_a"}, 83.59},
	{"512x512 5 k_euler_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 5, Sampler: "k_euler_a"}, 5.77},
	{"512x512 10 k_euler_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 10, Sampler: "k_euler_a"}, 6.30},
	{"512x512 20 k_euler_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: "k_euler_a"}, 7.76},
	{"512x512 30 k_euler_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a"}, 9.61},
	{"512x512 50 k_euler_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 50, Sampler: "k_euler_a"}, 12.98},
	{"512x512 100 k_euler_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 100, Sampler: "k_euler_a"}, 22.19},
	{"512x512 500 k_euler_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 500, Sampler: "k_euler_a"}, 124.40},
	{"512x768 5 k_euler_a", kudos.ImagePrice{Width: 512, Height: 768, Steps: 5, Sampler: "k_euler_a"}, 6.18},
	{"512x768 10 k_euler_a", kudos.ImagePrice{Width: 512, Height: 768, Steps: 10, Sampler: "k_euler_a"}, 6.89},
	{"512x768 20 k_euler_a", kudos.ImagePrice{Width: 512, Height: 768, Steps: 20, Sampler: "k_euler_a"}, 8.57},
	{"512x768 30 k_euler_a", kudos.ImagePrice{Width: 512, Height: 768, Steps: 30, Sampler: "k_euler_a"}, 10.42},
	{"512x768 50 k_euler_a", kudos.ImagePrice{Width: 512, Height: 768, Steps: 50, Sampler: "k_euler_a"}, 14.21},
	{"512x768 100 k_euler_a", kudos.ImagePrice{Width: 512, Height: 768, Steps: 100, Sampler: "k_euler_a"}, 25.52},
	{"512x768 500 k_euler_a", kudos.ImagePrice{Width: 512, Height: 768, Steps: 500, Sampler: "k_euler_a"}, 138.57},
	{"768x768 5 k_euler_a", kudos.ImagePrice{Width: 768, Height: 768, Steps: 5, Sampler: "k_euler_a"}, 7.66},
	{"768x768 10 k_euler_a", kudos.ImagePrice{Width: 768, Height: 768, Steps: 10, Sampler: "k_euler_a"}, 8.50},
	{"768x768 20 k_euler_a", kudos.ImagePrice{Width: 768, Height: 768, Steps: 20, Sampler: "k_euler_a"}, 11.11},
	{"768x768 30 k_euler_a", kudos.ImagePrice{Width: 768, Height: 768, Steps: 30, Sampler: "k_euler_a"}, 13.67},
	{"768x768 50 k_euler_a", kudos.ImagePrice{Width: 768, Height: 768, Steps: 50, Sampler: "k_euler_a"}, 18.30},
	{"768x768 100 k_euler_a", kudos.ImagePrice{Width: 768, Height: 768, Steps: 100, Sampler: "k_euler_a"}, 31.74},
	{"768x768 500 k_euler_a", kudos.ImagePrice{Width: 768, Height: 768, Steps: 500, Sampler: "k_euler_a"}, 154.29},
	{"1024x1024 5 k_euler_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 5, Sampler: "k_euler_a"}, 13.39},
	{"1024x1024 10 k_euler_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 10, Sampler: "k_euler_a"}, 14.55},
	{"1024x1024 20 k_euler_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 20, Sampler: "k_euler_a"}, 17.69},
	{"1024x1024 30 k_euler_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a"}, 22.57},
	{"1024x1024 50 k_euler_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 50, Sampler: "k_euler_a"}, 31.44},
	{"1024x1024 100 k_euler_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 100, Sampler: "k_euler_a"}, 50.02},
	{"1024x1024 500 k_euler_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 500, Sampler: "k_euler_a"}, 188.15},
	{"832x1216 5 k_euler_a", kudos.ImagePrice{Width: 832, Height: 1216, Steps: 5, Sampler: "k_euler_a"}, 12.69},
	{"832x1216 10 k_euler_a", kudos.ImagePrice{Width: 832, Height: 1216, Steps: 10, Sampler: "k_euler_a"}, 14.26},
	{"832x1216 20 k_euler_a", kudos.ImagePrice{Width: 832, Height: 1216, Steps: 20, Sampler: "k_euler_a"}, 17.37},
	{"832x1216 30 k_euler_a", kudos.ImagePrice{Width: 832, Height: 1216, Steps: 30, Sampler: "k_euler_a"}, 22.26},
	{"832x1216 50 k_euler_a", kudos.ImagePrice{Width: 832, Height: 1216, Steps: 50, Sampler: "k_euler_a"}, 31.06},
	{"832x1216 100 k_euler_a", kudos.ImagePrice{Width: 832, Height: 1216, Steps: 100, Sampler: "k_euler_a"}, 49.70},
	{"832x1216 500 k_euler_a", kudos.ImagePrice{Width: 832, Height: 1216, Steps: 500, Sampler: "k_euler_a"}, 185.73},
	{"2048x2048 5 k_euler_a", kudos.ImagePrice{Width: 2048, Height: 2048, Steps: 5, Sampler: "k_euler_a"}, 83.37},
	{"2048x2048 10 k_euler_a", kudos.ImagePrice{Width: 2048, Height: 2048, Steps: 10, Sampler: "k_euler_a"}, 90.05},
	{"2048x2048 20 k_euler_a", kudos.ImagePrice{Width: 2048, Height: 2048, Steps: 20, Sampler: "k_euler_a"}, 103.40},
	{"2048x2048 30 k_euler_a", kudos.ImagePrice{Width: 2048, Height: 2048, Steps: 30, Sampler: "k_euler_a"}, 116.50},
	{"2048x2048 50 k_euler_a", kudos.ImagePrice{Width: 2048, Height: 2048, Steps: 50, Sampler: "k_euler_a"}, 137.91},
	{"2048x2048 100 k_euler_a", kudos.ImagePrice{Width: 2048, Height: 2048, Steps: 100, Sampler: "k_euler_a"}, 179.82},
	{"2048x2048 500 k_euler_a", kudos.ImagePrice{Width: 2048, Height: 2048, Steps: 500, Sampler: "k_euler_a"}, 347.72},
	{"1536x1536 10 k_euler_a", kudos.ImagePrice{Width: 1536, Height: 1536, Steps: 10, Sampler: "k_euler_a"}, 34.95},
	{"1536x1536 20 k_euler_a", kudos.ImagePrice{Width: 1536, Height: 1536, Steps: 20, Sampler: "k_euler_a"}, 46.41},
	{"1536x1536 30 k_euler_a", kudos.ImagePrice{Width: 1536, Height: 1536, Steps: 30, Sampler: "k_euler_a"}, 59.56},
	{"1536x1536 100 k_euler_a", kudos.ImagePrice{Width: 1536, Height: 1536, Steps: 100, Sampler: "k_euler_a"}, 106.83},
	{"512x512 30 k_euler", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler"}, 9.84},
	{"1024x1024 30 k_euler", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler"}, 22.74},
	{"512x512 30 k_heun", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_heun"}, 15.03},
	{"1024x1024 30 k_heun", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_heun"}, 32.15},
	{"512x512 30 k_dpm_2", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_dpm_2"}, 14.23},
	{"1024x1024 30 k_dpm_2", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_dpm_2"}, 33.67},
	{"512x512 30 k_dpm_2_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_dpm_2_a"}, 14.91},
	{"1024x1024 30 k_dpm_2_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_dpm_2_a"}, 33.33},
	{"512x512 30 k_dpmpp_2s_a", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_dpmpp_2s_a"}, 14.11},
	{"1024x1024 30 k_dpmpp_2s_a", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_dpmpp_2s_a"}, 33.31},
	{"512x512 30 k_dpmpp_sde", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_dpmpp_sde"}, 15.03},
	{"1024x1024 30 k_dpmpp_sde", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_dpmpp_sde"}, 33.29},
	{"512x512 30 k_dpmpp_2m", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_dpmpp_2m"}, 9.54},
	{"1024x1024 30 k_dpmpp_2m", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_dpmpp_2m"}, 24.31},
	{"512x512 30 k_lms", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_lms"}, 9.61},
	{"1024x1024 30 k_lms", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_lms"}, 23.16},
	{"512x512 30 k_dpm_adaptive", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_dpm_adaptive"}, 15.54},
	{"1024x1024 30 k_dpm_adaptive", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_dpm_adaptive"}, 28.69},
	{"512x512 20 k_euler_a hires", kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: "k_euler_a", HiresFix: true}, 9.78},
	{"512x512 50 k_euler_a hires", kudos.ImagePrice{Width: 512, Height: 512, Steps: 50, Sampler: "k_euler_a", HiresFix: true}, 21.82},
	{"768x768 20 k_euler_a hires", kudos.ImagePrice{Width: 768, Height: 768, Steps: 20, Sampler: "k_euler_a", HiresFix: true}, 14.77},
	{"768x768 50 k_euler_a hires", kudos.ImagePrice{Width: 768, Height: 768, Steps: 50, Sampler: "k_euler_a", HiresFix: true}, 28.84},
	{"1024x1024 20 k_euler_a hires", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 20, Sampler: "k_euler_a", HiresFix: true}, 20.27},
	{"1024x1024 50 k_euler_a hires", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 50, Sampler: "k_euler_a", HiresFix: true}, 42.96},
	{"512x512 30 k_euler_a GFPGAN", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"GFPGAN"}}, 11.19},
	{"1024x1024 30 k_euler_a GFPGAN", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"GFPGAN"}}, 25.01},
	{"512x512 30 k_euler_a CodeFormers", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"CodeFormers"}}, 8.80},
	{"1024x1024 30 k_euler_a CodeFormers", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"CodeFormers"}}, 21.71},
	{"512x512 30 k_euler_a RealESRGAN_x4plus", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"RealESRGAN_x4plus"}}, 12.94},
	{"1024x1024 30 k_euler_a RealESRGAN_x4plus", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"RealESRGAN_x4plus"}}, 42.79},
	{"512x512 30 k_euler_a RealESRGAN_x2plus", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"RealESRGAN_x2plus"}}, 12.99},
	{"1024x1024 30 k_euler_a RealESRGAN_x2plus", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"RealESRGAN_x2plus"}}, 33.22},
	{"512x512 30 k_euler_a strip_background", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"strip_background"}}, 10.73},
	{"1024x1024 30 k_euler_a strip_background", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"strip_background"}}, 25.77},
	{"512x512 30 k_euler_a NMKD_Siax", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"NMKD_Siax"}}, 11.74},
	{"1024x1024 30 k_euler_a NMKD_Siax", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"NMKD_Siax"}}, 30.91},
	{"512x512 30 k_euler_a 4x_AnimeSharp", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"4x_AnimeSharp"}}, 13.75},
	{"1024x1024 30 k_euler_a 4x_AnimeSharp", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"4x_AnimeSharp"}}, 31.49},
	{"512x512 30 k_euler_a RealESRGAN_x4plus_anime_6B", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"RealESRGAN_x4plus_anime_6B"}}, 11.39},
	{"1024x1024 30 k_euler_a RealESRGAN_x4plus_anime_6B", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"RealESRGAN_x4plus_anime_6B"}}, 25.51},
	{"512x512 30 k_euler_a GFPGAN RealESRGAN_x4plus", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", PostProcessors: []string{"GFPGAN", "RealESRGAN_x4plus"}}, 14.59},
	{"512x512 30 k_euler_a img2img 0.3", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 0.3}, 10.23},
	{"512x512 30 k_euler_a img2img 0.75", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 0.75}, 11.43},
	{"512x512 30 k_euler_a img2img 1", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 1}, 12.31},
	{"512x512 30 k_euler_a inpainting 1", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "inpainting", Denoising: 1}, 14.35},
	{"512x512 30 k_euler_a outpainting 1", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "outpainting", Denoising: 1}, 15.77},
	{"512x512 20 k_euler_a img2img 1 controlnet canny", kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 1, ControlNet: true}, 18.76},
	{"512x512 20 k_euler_a img2img 1 controlnet depth", kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 1, ControlNet: true}, 19.58},
	{"512x512 20 k_euler_a img2img 1 controlnet openpose", kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 1, ControlNet: true}, 18.37},
	{"512x512 20 k_euler_a img2img 1 controlnet hed", kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 1, ControlNet: true}, 20.49},
	{"512x512 20 k_euler_a img2img 1 controlnet normal", kudos.ImagePrice{Width: 512, Height: 512, Steps: 20, Sampler: "k_euler_a", SourceImage: true, SourceProcessing: "img2img", Denoising: 1, ControlNet: true}, 21.64},
	{"512x512 30 k_euler_a 1 loras", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", Loras: 1}, 12.61},
	{"1024x1024 30 k_euler_a 1 loras", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", Loras: 1}, 25.57},
	{"512x512 30 k_euler_a 3 loras", kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a", Loras: 3}, 18.61},
	{"1024x1024 30 k_euler_a 3 loras", kudos.ImagePrice{Width: 1024, Height: 1024, Steps: 30, Sampler: "k_euler_a", Loras: 3}, 31.57},
}

func TestImageCostWithinTwentyPercentOfTheAIHorde(t *testing.T) {
	worst := 0.0
	for _, q := range aiHordeQuotes {
		got := kudos.ImageCost(q.price, 1)
		off := float64(got)/q.quote - 1
		worst = max(worst, math.Abs(off))
		if math.Abs(off) > 0.20 {
			t.Errorf("%s: hordebot asks %d kudos, the AI Horde %.2f (%+.0f%%)", q.name, got, q.quote, 100*off)
		}
	}
	t.Logf("%d quotes, worst %.1f%% off the AI Horde's", len(aiHordeQuotes), 100*worst)
}

// TestImageCostIssueQuotes: the quotes of AI Horde 4.43.9 the issue compared
// with: a 64x64 image at 5 steps costs 5, at 500 steps 94 (hordebot asked 1
// and 2); steps are not almost free on small images.
func TestImageCostIssueQuotes(t *testing.T) {
	for _, c := range []struct {
		steps int
		quote float64
	}{{5, 5}, {500, 94}} {
		got := kudos.ImageCost(kudos.ImagePrice{Width: 64, Height: 64, Steps: c.steps, Sampler: "k_euler_a"}, 1)
		if off := float64(got)/c.quote - 1; math.Abs(off) > 0.20 {
			t.Errorf("64x64 at %d steps: %d kudos, the AI Horde quotes %.0f", c.steps, got, c.quote)
		}
	}
	few := kudos.ImageCost(kudos.ImagePrice{Width: 64, Height: 64, Steps: 5}, 1)
	many := kudos.ImageCost(kudos.ImagePrice{Width: 64, Height: 64, Steps: 500}, 1)
	if many < 10*few {
		t.Errorf("100 times the steps cost %d against %d: steps are almost free", many, few)
	}
}

// TestImageCostBasis: the AI Horde's basis, 512x512 at 50 steps of k_euler,
// is worth 10 kudos (+1); with the horde taxes a one-image request costs 13.
func TestImageCostBasis(t *testing.T) {
	if got := kudos.ImageCost(kudos.ImagePrice{Width: 512, Height: 512, Steps: 50, Sampler: "k_euler"}, 1); got != 13 {
		t.Fatalf("the basis costs %d, want 13 (11 for the image, 1 per image and 1 per request in taxes)", got)
	}
}

// TestImageCostExtras: the AI Horde's extras on top of the curve.
func TestImageCostExtras(t *testing.T) {
	base := kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a"}
	plain := kudos.ImageCost(base, 1) // 10
	with := func(f func(*kudos.ImagePrice)) int64 {
		p := base
		f(&p)
		return kudos.ImageCost(p, 1)
	}
	for _, c := range []struct {
		name string
		f    func(*kudos.ImagePrice)
		want int64
	}{
		{"a LoRA is 3 kudos", func(p *kudos.ImagePrice) { p.Loras = 1 }, plain + 3},
		{"three LoRAs are 9", func(p *kudos.ImagePrice) { p.Loras = 3 }, plain + 9},
		{"textual inversions are 1 kudos", func(p *kudos.ImagePrice) { p.TIs = 2 }, plain + 1},
		{"SDXL is twice", func(p *kudos.ImagePrice) { p.Baseline = "stable_diffusion_xl" }, 17},
		{"Stable Cascade four times", func(p *kudos.ImagePrice) { p.Baseline = "stable_cascade" }, 33},
		{"Flux eight times", func(p *kudos.ImagePrice) { p.Baseline = "flux_1" }, 63},
		{"fast workers only is +20%", func(p *kudos.ImagePrice) { p.FastWorkersOnly = true }, 11},
		{"a worker deny-list is +10%", func(p *kudos.ImagePrice) { p.WorkerDenyList = true }, 11},
		{"each extra source image adds 5 to the request", func(p *kudos.ImagePrice) { p.ExtraSourceImages = 2 }, plain + 10},
		{"a second-order sampler's steps count double", func(p *kudos.ImagePrice) { p.Steps = 60 }, with(func(p *kudos.ImagePrice) { p.Sampler = "k_heun" })},
		{"a ControlNet is 2.2 times its image, before the burn", func(p *kudos.ImagePrice) {
			p.SourceImage, p.SourceProcessing, p.ControlNet = true, "img2img", true
		}, 24}, // 7.65 x 2.2 x 1.3 + 2
		{"asking only for the control map is an img2img", func(p *kudos.ImagePrice) {
			p.SourceImage, p.SourceProcessing, p.ControlNet, p.ReturnControlMap = true, "img2img", true, true
		}, with(func(p *kudos.ImagePrice) { p.SourceImage, p.SourceProcessing = true, "img2img" })},
	} {
		if got := with(c.f); got != c.want {
			t.Errorf("%s: %d kudos, want %d (plain %d)", c.name, got, c.want, plain)
		}
	}
}

// TestImageCostPerRequestTax: the per-request tax is spread over the items,
// so that n images in one request cost less than n requests of one.
func TestImageCostPerRequestTax(t *testing.T) {
	p := kudos.ImagePrice{Width: 512, Height: 512, Steps: 30, Sampler: "k_euler_a"}
	one, four := kudos.ImageCost(p, 1), kudos.ImageCost(p, 4)
	if one != 10 || four != 9 {
		t.Fatalf("one image %d, each of four %d; want 10 and 9 (the request's 1 kudos of tax spread)", one, four)
	}
	if got := kudos.ImageCost(kudos.ImagePrice{Width: 64, Height: 64, Steps: 1}, 0); got < 1 {
		t.Fatalf("the cheapest image costs %d", got)
	}
}

// TestTextCost: the AI Horde's text reward, tokens x model size / 125 (a
// bonus above 13B) x a context multiplier, plus the horde taxes.
func TestTextCost(t *testing.T) {
	short := len("tell me a story about a lighthouse") // 20 tokens at least
	for _, c := range []struct {
		name string
		p    kudos.TextPrice
		n    int
		want int64 // the AI Horde's, rounded
	}{
		{"80 tokens from a short prompt, 13B", kudos.TextPrice{MaxLength: 80, MaxContextLength: 1024, PromptChars: short}, 1, 12}, // 80 x 13 / 125 x 1.2113 + 2
		{"512 tokens from a short prompt", kudos.TextPrice{MaxLength: 512, MaxContextLength: 2048, PromptChars: short}, 1, 67},    // 64.5 + 2
		{"80 tokens reading 1024 tokens", kudos.TextPrice{MaxLength: 80, MaxContextLength: 1024, PromptChars: 4096}, 1, 20},       // 80 x 13 / 125 x 2.2 + 2
		{"80 tokens reading 4096 tokens", kudos.TextPrice{MaxLength: 80, MaxContextLength: 4096, PromptChars: 4 * 4096}, 1, 52},   // x 6.04
		{"the context is at most max_context_length", kudos.TextPrice{MaxLength: 80, MaxContextLength: 1024, PromptChars: 4 * 4096}, 1, 20},
		{"a 7B model", kudos.TextPrice{MaxLength: 80, MaxContextLength: 1024, PromptChars: short, ModelBillions: 7}, 1, 7},                              // 80 x 7 / 125 x 1.2113 + 2
		{"a 70B model reading 8192 tokens", kudos.TextPrice{MaxLength: 200, MaxContextLength: 8192, PromptChars: 4 * 8192, ModelBillions: 70}, 1, 1860}, // 200 x 1.4003 x 70 / 125 x 11.848 + 2
		{"four items share the request's tax", kudos.TextPrice{MaxLength: 80, MaxContextLength: 1024, PromptChars: short}, 4, 11},                       // 10.08 + 1 + 0.25
		{"the context multiplier is capped at 30", kudos.TextPrice{MaxLength: 100, MaxContextLength: 131072, PromptChars: 4 * 131072}, 1, 314},          // 100 x 13 / 125 x 30 + 2
		{"no tokens: the taxes", kudos.TextPrice{MaxLength: 0, MaxContextLength: 80}, 1, 2},
	} {
		if got := kudos.TextCost(c.p, c.n); got != c.want {
			t.Errorf("%s: %d kudos, want %d", c.name, got, c.want)
		}
	}
}
