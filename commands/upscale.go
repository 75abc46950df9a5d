package commands

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
)

// The message context menu Upscale asks the alchemists for a 2x upscale
// (RealESRGAN_x2plus) of the message's first image (alchemy.go); the
// image-message buttons Upscale 2x and 4x do it for one image of a result
// (image_buttons.go).

func (s *Set) upscaleMenu() *Command {
	return &Command{
		Def:   &discordgo.ApplicationCommand{Name: menuUpscale, Type: discordgo.MessageApplicationCommand},
		Defer: deferAlways(interact.DeferPublic),
		Handle: func(ctx context.Context, ix *interact.Interaction) error {
			if err := s.requireAlchemy(); err != nil {
				return err
			}
			img, err := s.targetFetch(ctx, ix)
			if err != nil {
				return err
			}
			a, err := upscaleAsk(img.Data, img.Width, img.Height, 2, imageName(img))
			if err != nil {
				return err
			}
			return s.interrogateAndWatch(ctx, ix, a)
		},
	}
}
