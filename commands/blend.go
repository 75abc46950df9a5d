package commands

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// /blend image1 image2 [image3..image5] [prompt] blends members' images as
// the AI Horde does: a Stable Cascade remix (source_processing "remix",
// the first image as source_image, the others as extra_source_images at
// strength 1), at the first image's aspect ratio, priced by the horde (5
// kudos more per extra image). Workers that allow img2img serve it.

const (
	minBlendImages = 2
	maxBlendImages = 1 + aihorde.MaxExtraSourceImages // the source and its extra images
	// defaultBlendPrompt is the prompt of a blend given none (the AI
	// Horde needs one).
	defaultBlendPrompt = "a blend of these images"
)

func (s *Set) blendCommand() *Command {
	opts := []*discordgo.ApplicationCommandOption{}
	for i := 1; i <= min(maxBlendImages, 5); i++ {
		opts = append(opts, &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionAttachment, Name: "image" + strconv.Itoa(i),
			Description: fmt.Sprintf("Image %d: PNG, JPEG or WebP", i), Required: i <= minBlendImages,
		})
	}
	opts = append(opts, &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What the blend should show (optional)", MaxLength: 1000,
	})
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name: "blend", Description: "Blend 2 to 5 images into one (a Stable Cascade remix)", Options: opts,
		},
		Defer:     deferAlways(interact.DeferPublic),
		Handle:    s.handleBlend,
		Resumable: true, // the attachments are in the recorded interaction (resolved), fetched again
	}
}

func (s *Set) handleBlend(ctx context.Context, ix *interact.Interaction) error {
	o := interact.ParseOptions(ix.I)
	var names []string
	for i := 1; i <= min(maxBlendImages, 5); i++ {
		if name := "image" + strconv.Itoa(i); o.Has(name) {
			names = append(names, name)
		}
	}
	if len(names) < minBlendImages {
		return horde.Invalidf("image2", "a blend needs at least %d images", minBlendImages).InCase("blend_count").With("Min", minBlendImages)
	}
	if err := s.requireImg2Img(ix); err != nil {
		return err
	}
	imgs := make([]memberImage, 0, len(names))
	for _, name := range names {
		img, err := s.fetcher.fetch(ctx, name, optionAttachment(ix, name))
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	prompt := o.String("prompt", "")
	shown := prompt
	if prompt == "" {
		prompt = defaultBlendPrompt // the AI Horde's language: English
		shown = ix.T("blend.default_prompt", nil)
	}
	p := &horde.ImageParams{
		Steps: aihorde.DefaultSteps, SamplerName: aihorde.DefaultSampler, CFGScale: aihorde.DefaultCFGScale,
		SourceProcessing: "remix",
	}
	p.Width, p.Height = sizeForSource(imgs[0].Width, imgs[0].Height)
	var err error
	if p.SourceImage, err = sourceFor(imgs[0].Img, p.Width, p.Height); err != nil {
		return fmt.Errorf("prepare blend image 1: %w", err)
	}
	for i, img := range imgs[1:] {
		src, err := sourceFor(img.Img, p.Width, p.Height)
		if err != nil {
			return fmt.Errorf("prepare blend image %d: %w", i+2, err)
		}
		p.ExtraSourceImages = append(p.ExtraSourceImages, horde.ExtraSourceImage{Image: src, Strength: aihorde.DefaultExtraSourceStrength})
	}
	nr := horde.NewRequest{Kind: horde.KindImage, Prompt: prompt, Image: p, N: 1, R2: true, ClientAgent: clientAgent, Source: "discord"}
	return s.submitLimited(ctx, ix, o.Has, nr, ix.T("blend.shown", locale.Args{"Prompt": shown, locale.CountArg: len(imgs)}))
}
