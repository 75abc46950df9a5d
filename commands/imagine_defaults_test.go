package commands

import (
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// imagineOptions are the options of an /imagine interaction.
func imagineOptions(opts ...*discordgo.ApplicationCommandInteractionDataOption) interact.Options {
	return interact.ParseOptions(&discordgo.Interaction{
		Type: discordgo.InteractionApplicationCommand,
		Data: discordgo.ApplicationCommandInteractionData{Name: "imagine", Options: opts},
	})
}

func stringOption(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
}

// TestImagineUsesTheHordeDefaults pins /imagine to the AI Horde's defaults
// (horde/aihorde), the ones the API and the domain apply too: a member who
// sets nothing gets what an API client who sets nothing gets.
func TestImagineUsesTheHordeDefaults(t *testing.T) {
	nr, _, err := imagineRequest(imagineOptions(stringOption("prompt", "a lighthouse")))
	if err != nil {
		t.Fatal(err)
	}
	p := nr.Image
	if p == nil {
		t.Fatal("no image parameters")
	}
	if p.Width != aihorde.DefaultWidth || p.Height != aihorde.DefaultHeight {
		t.Errorf("size %dx%d, want %dx%d", p.Width, p.Height, aihorde.DefaultWidth, aihorde.DefaultHeight)
	}
	if p.Steps != aihorde.DefaultSteps {
		t.Errorf("steps %d, want %d", p.Steps, aihorde.DefaultSteps)
	}
	if p.CFGScale != aihorde.DefaultCFGScale {
		t.Errorf("cfg_scale %g, want %g", p.CFGScale, aihorde.DefaultCFGScale)
	}
	if p.SamplerName != aihorde.DefaultSampler {
		t.Errorf("sampler %q, want %q", p.SamplerName, aihorde.DefaultSampler)
	}
	if p.DenoisingStrength != 0 {
		t.Errorf("denoising %g on a txt2img request, want unset", p.DenoisingStrength)
	}
	if maxSteps > aihorde.MaxSteps {
		t.Errorf("/imagine allows %d steps, more than the horde's %d", maxSteps, aihorde.MaxSteps)
	}
}

// TestImagineNegativePrompt checks that the negative option becomes the AI
// Horde's "positive ### negative" and that the member is shown the positive part.
func TestImagineNegativePrompt(t *testing.T) {
	tests := []struct {
		name, negative, want string
	}{
		{"none", "", "a lighthouse"},
		{"blank", "   ", "a lighthouse"},
		{"set", "blurry, people", "a lighthouse ### blurry, people"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []*discordgo.ApplicationCommandInteractionDataOption{stringOption("prompt", "a lighthouse")}
			if tt.negative != "" {
				opts = append(opts, stringOption("negative", tt.negative))
			}
			nr, shown, err := imagineRequest(imagineOptions(opts...))
			if err != nil {
				t.Fatal(err)
			}
			if nr.Prompt != tt.want {
				t.Errorf("prompt %q, want %q", nr.Prompt, tt.want)
			}
			if shown != "a lighthouse" || shownPrompt(nr.Prompt) != "a lighthouse" {
				t.Errorf("shown %q / %q, want the positive part", shown, shownPrompt(nr.Prompt))
			}
		})
	}
}
