package horde_test

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
)

const testImageRef = `{
 "Flux": {"baseline": "flux_1", "nsfw": false, "requirements": {"min_steps": 4, "max_steps": 8, "cfg_scale": 1, "samplers": ["k_euler"]}},
 "Plain": {"name": "Plain", "baseline": "stable diffusion 1", "nsfw": true}
}`

func TestModelReferenceAverageSteps(t *testing.T) {
	ref, err := horde.ParseModelReference([]byte(testImageRef), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		model string
		steps int
		known bool
	}{
		{"Flux", 6, true},
		{"Plain", 30, true},    // the AI Horde's defaults 20 and 40
		{"Unknown", 30, false}, // not in the reference: the same defaults
	} {
		steps, known := ref.AverageSteps(tt.model)
		if steps != tt.steps || known != tt.known {
			t.Errorf("AverageSteps(%s) = %d, %v; want %d, %v", tt.model, steps, known, tt.steps, tt.known)
		}
	}
	var none *horde.ModelReference
	if steps, known := none.AverageSteps("Flux"); steps != 30 || known {
		t.Errorf("nil reference: %d, %v", steps, known)
	}
	if ref.Image["Flux"].Name != "Flux" || !ref.Image["Plain"].NSFW {
		t.Errorf("entries = %+v", ref.Image)
	}
}

func TestModelReferenceBaseline(t *testing.T) {
	ref, _ := horde.ParseModelReference([]byte(testImageRef), nil)
	for model, want := range map[string]string{
		"Flux": horde.BaselineFlux, "Plain": horde.BaselineSD1, "Mine [SDXL]": horde.BaselineSDXL,
		"Other [Flux]": horde.BaselineFlux, "whatever": horde.BaselineSD1,
	} {
		if got := ref.Baseline(model); got != want {
			t.Errorf("Baseline(%s) = %s, want %s", model, got, want)
		}
	}
}

func TestModelReferenceCheckImageParams(t *testing.T) {
	ref, _ := horde.ParseModelReference([]byte(testImageRef), nil)
	for _, tt := range []struct {
		name  string
		p     horde.ImageParams
		codes []string
	}{
		{"fits", horde.ImageParams{Steps: 6, CFGScale: 1, SamplerName: "k_euler"}, nil},
		{"too few", horde.ImageParams{Steps: 2, CFGScale: 1, SamplerName: "k_euler"}, []string{horde.WarnStepsTooFew}},
		{"all wrong", horde.ImageParams{Steps: 30, CFGScale: 7, SamplerName: "k_euler_a"},
			[]string{horde.WarnStepsTooMany, horde.WarnCfgScaleMismatch, horde.WarnSamplerMismatch}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := ref.CheckImageParams([]string{"Flux", "Unknown"}, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				got = append(got, w.Code)
			}
			if len(got) != len(tt.codes) {
				t.Fatalf("codes = %v, want %v", got, tt.codes)
			}
			for i := range got {
				if got[i] != tt.codes[i] {
					t.Errorf("codes = %v, want %v", got, tt.codes)
				}
			}
		})
	}
	if _, err := ref.CheckImageParams([]string{"Flux"}, horde.ImageParams{Steps: 6, HiresFix: true}); err == nil {
		t.Error("hires_fix on Flux accepted")
	}
}

func TestStyleApplyPrompt(t *testing.T) {
	for _, tt := range []struct {
		template, prompt, want string
		kind                   horde.RequestKind
	}{
		{"{p}, oil ### blurry, {np}", "cat ### dog", "cat , oil ### blurry,  dog", horde.KindImage},
		{"{p}, oil{np}", "cat ### dog", "cat , oil### dog", horde.KindImage},
		{"{p}, oil{np}", "cat", "cat, oil", horde.KindImage},
		{"{p} {seed} {np}", "{np}", "{np} {seed} ", horde.KindImage}, // no rescan, other braces kept
		{"Be terse. {p}", "a ### b", "Be terse. a ### b", horde.KindText},
	} {
		if got := (horde.Style{Kind: tt.kind, Prompt: tt.template}).ApplyPrompt(tt.prompt); got != tt.want {
			t.Errorf("%q with %q = %q, want %q", tt.template, tt.prompt, got, tt.want)
		}
	}
}
