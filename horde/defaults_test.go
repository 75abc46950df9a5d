package horde_test

import (
	"errors"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// TestRequestDefaultsAreTheAIHorde checks that a request that sets nothing
// gets the AI Horde's defaults (horde/aihorde), the ones the API and /imagine
// use too.
func TestRequestDefaultsAreTheAIHorde(t *testing.T) {
	e := newEnv(t, horde.Config{})
	c := e.user("ada", 1000)
	img := e.submit(c, horde.NewRequest{Kind: horde.KindImage, Prompt: "a lighthouse", N: 1, Image: &horde.ImageParams{}})
	p := img.Image
	if p.Width != aihorde.DefaultWidth || p.Height != aihorde.DefaultHeight || p.Steps != aihorde.DefaultSteps ||
		p.CFGScale != aihorde.DefaultCFGScale || p.SamplerName != aihorde.DefaultSampler {
		t.Errorf("image defaults %dx%d, %d steps, cfg %g, %s; want the AI Horde's", p.Width, p.Height, p.Steps, p.CFGScale, p.SamplerName)
	}
	txt := e.submit(c, horde.NewRequest{Kind: horde.KindText, Prompt: "once upon a time", N: 1, Text: &horde.TextParams{}})
	if txt.Text.MaxLength != aihorde.DefaultMaxLength || txt.Text.MaxContextLength != aihorde.DefaultMaxContextLength {
		t.Errorf("text defaults %d/%d, want %d/%d", txt.Text.MaxLength, txt.Text.MaxContextLength,
			aihorde.DefaultMaxLength, aihorde.DefaultMaxContextLength)
	}
}

// TestImageParamRanges checks the domain's ranges against the AI Horde's: the
// API refuses the same values (horde/api TestImageAsyncRanges).
func TestImageParamRanges(t *testing.T) {
	tests := []struct {
		name  string
		set   func(*horde.ImageParams)
		field string // "" when valid
	}{
		{"denoising unset", func(p *horde.ImageParams) { p.DenoisingStrength = 0 }, ""},
		{"denoising at its minimum", func(p *horde.ImageParams) { p.DenoisingStrength = aihorde.MinDenoisingStrength }, ""},
		{"denoising at its maximum", func(p *horde.ImageParams) { p.DenoisingStrength = aihorde.MaxDenoisingStrength }, ""},
		{"denoising below the AI Horde's minimum", func(p *horde.ImageParams) { p.DenoisingStrength = 0.005 }, "denoising_strength"},
		{"denoising above 1", func(p *horde.ImageParams) { p.DenoisingStrength = 1.5 }, "denoising_strength"},
		{"cfg at its maximum", func(p *horde.ImageParams) { p.CFGScale = aihorde.MaxCFGScale }, ""},
		{"cfg above its maximum", func(p *horde.ImageParams) { p.CFGScale = aihorde.MaxCFGScale + 1 }, "cfg_scale"},
		{"steps above the maximum", func(p *horde.ImageParams) { p.Steps = aihorde.MaxSteps + 1 }, "steps"},
		{"width not a multiple", func(p *horde.ImageParams) { p.Width = aihorde.DefaultWidth + 1 }, "width"},
		{"height above the maximum", func(p *horde.ImageParams) { p.Height = aihorde.MaxSide + aihorde.SideMultiple }, "height"},
	}
	e := newEnv(t, horde.Config{})
	c := e.user("ada", 100000)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &horde.ImageParams{}
			tt.set(p)
			_, _, err := e.h.Submit(e.ctx, c.User, horde.NewRequest{Kind: horde.KindImage, Prompt: "a lighthouse", N: 1, Image: p, DryRun: true})
			var he *horde.Error
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.field != "" && (!errors.As(err, &he) || he.Kind != horde.KindInvalid || he.Field != tt.field):
				t.Errorf("got %v, want KindInvalid on %s", err, tt.field)
			}
		})
	}
}
