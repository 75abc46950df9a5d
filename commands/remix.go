package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The message context menu Remix is an img2img of the message's first
// image: a modal asks for the prompt and the strength, and its submit
// queues the request. The modal's custom ID carries the message's id; the
// submit fetches the message again (its attachment's URL is fresh then).

const (
	formRemix        = "remix" // /{message id}
	remixPromptInput = "prompt"
	remixStrength    = "strength"
)

func (s *Set) remixMenu() *Command {
	return &Command{
		Def: &discordgo.ApplicationCommand{Name: menuRemix, Type: discordgo.MessageApplicationCommand},
		// A modal must be the first response: no deferral.
		Handle: func(ctx context.Context, ix *interact.Interaction) error {
			m := targetMessage(ix)
			a, err := targetImage(ix)
			if err != nil {
				return err
			}
			if ct := strings.ToLower(a.ContentType); ct != "" && !acceptedImageType(ct) {
				return notAnImage("")
			}
			if err := s.requireImg2Img(ix); err != nil {
				return err
			}
			return ix.Modal(ctx, formRemix+"/"+m.ID, ix.T("remix.title", nil),
				discordgo.TextInput{CustomID: remixPromptInput, Label: ix.T("remix.prompt.label", nil), Style: discordgo.TextInputParagraph,
					Required: true, MinLength: 1, MaxLength: 1000, Placeholder: ix.T("remix.prompt.placeholder", nil)},
				discordgo.TextInput{CustomID: remixStrength, Label: ix.T("remix.strength.label", nil), Style: discordgo.TextInputShort,
					Required: true, MinLength: 1, MaxLength: 5, Value: ix.Printer().Decimal(defaultImg2ImgStrength, 1)},
			)
		},
	}
}

func (s *Set) remixForm() *Component {
	// Resumable: the submit is its own interaction (its own id and token),
	// recorded with the form's values; the message is fetched again.
	return &Component{Prefix: formRemix, Defer: deferAlways(interact.DeferPublic), Handle: s.handleRemixSubmit, Resumable: true}
}

// handleRemixSubmit queues the img2img a Remix modal asked for.
func (s *Set) handleRemixSubmit(ctx context.Context, ix *interact.Interaction, args []string) error {
	// The custom ID is the client's: the message it names is fetched again
	// in the channel of the submit, so a forged one reaches no other channel.
	if len(args) != 1 || !interact.IsSnowflake(args[0]) {
		return horde.Invalidf("custom_id", "this form is malformed").InCase("form")
	}
	values := interact.ModalValues(ix.I)
	prompt := strings.TrimSpace(values[remixPromptInput])
	if prompt == "" {
		return horde.Invalidf("prompt", "the prompt is empty").InCase("prompt_empty")
	}
	strength, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(values[remixStrength], ",", ".")), 64)
	if err != nil || strength < minImg2ImgStrength || strength > 1 {
		return horde.Invalidf("strength", "strength must be a number between %g and 1", minImg2ImgStrength).InCase("strength").
			With("Min", ix.Printer().Decimal(minImg2ImgStrength, 2))
	}
	if err := s.requireImg2Img(ix); err != nil {
		return err
	}
	var m *discordgo.Message
	if err := s.retry().Do(ctx, "get remixed message", func(opts ...discordgo.RequestOption) error {
		var err error
		m, err = ix.S.ChannelMessage(ix.I.ChannelID, args[0], opts...)
		return err
	}); err != nil {
		if interact.IsNotFound(err) {
			return horde.NotFoundf("MessageGone", "That message is gone: there is nothing to remix.")
		}
		return fmt.Errorf("get message %s: %w", args[0], err)
	}
	img, err := s.fetcher.fetch(ctx, "", firstImageAttachment(m))
	if err != nil {
		if firstImageAttachment(m) == nil {
			return horde.Errorf(horde.KindInvalid, "NoImage", "That message has no image attached any more.").InCase("gone")
		}
		return err
	}
	nr, err := imageFromSource(prompt, img, strength)
	if err != nil {
		return err
	}
	return s.submitLimited(ctx, ix, func(string) bool { return false }, nr, prompt)
}

// imageFromSource is an img2img request of prompt from a member's image,
// at the image's aspect ratio and the horde's default settings.
func imageFromSource(prompt string, img memberImage, strength float64) (horde.NewRequest, error) {
	p := &horde.ImageParams{
		Steps: aihorde.DefaultSteps, SamplerName: aihorde.DefaultSampler, CFGScale: aihorde.DefaultCFGScale,
		SourceProcessing: "img2img", DenoisingStrength: strength,
	}
	p.Width, p.Height = sizeForSource(img.Width, img.Height)
	var err error
	if p.SourceImage, err = sourceFor(img.Img, p.Width, p.Height); err != nil {
		return horde.NewRequest{}, fmt.Errorf("prepare the source image: %w", err)
	}
	return horde.NewRequest{
		Kind: horde.KindImage, Prompt: prompt, Image: p, N: 1, R2: true, ClientAgent: clientAgent, Source: "discord",
	}, nil
}
