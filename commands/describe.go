package commands

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
)

// /describe image:<attachment> and the message context menu Describe ask
// the alchemists for a caption and an interrogation (tags) of a member's
// image (alchemy.go); the image-message button Describe does the same for
// one image of a result (image_buttons.go).

// Names of the message context-menu commands.
const (
	menuDescribe = "Describe"
	menuUpscale  = "Upscale"
	menuRemix    = "Remix"
)

func (s *Set) describeCommand() *Command {
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "describe",
			Description: "Describe an image: a caption and tags, by the community's alchemists",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionAttachment, Name: "image", Description: "The image: PNG, JPEG or WebP", Required: true},
			},
		},
		Defer:     deferAlways(interact.DeferPublic),
		Resumable: true, // the attachment is in the recorded interaction (resolved), fetched again
		Handle: func(ctx context.Context, ix *interact.Interaction) error {
			if err := s.requireAlchemy(); err != nil {
				return err
			}
			img, err := s.fetcher.fetch(ctx, "image", optionAttachment(ix, "image"))
			if err != nil {
				return err
			}
			return s.interrogateAndWatch(ctx, ix, describeAsk(img.Data, img.Width, img.Height, imageName(ix.Printer(), img)))
		},
	}
}

func (s *Set) describeMenu() *Command {
	return s.alchemyMenu(menuDescribe, func(p *locale.Printer, img memberImage) (alchemyAsk, error) {
		return describeAsk(img.Data, img.Width, img.Height, imageName(p, img)), nil
	})
}

// alchemyMenu is a message context menu that asks the alchemists what ask
// makes of the target message's first image (named in p's language).
func (s *Set) alchemyMenu(name string, ask func(p *locale.Printer, img memberImage) (alchemyAsk, error)) *Command {
	return &Command{
		Def:       &discordgo.ApplicationCommand{Name: name, Type: discordgo.MessageApplicationCommand},
		Defer:     deferAlways(interact.DeferPublic),
		Resumable: true, // the target message is in the recorded interaction (resolved), its image fetched again
		Handle: func(ctx context.Context, ix *interact.Interaction) error {
			if err := s.requireAlchemy(); err != nil {
				return err
			}
			img, err := s.targetFetch(ctx, ix)
			if err != nil {
				return err
			}
			a, err := ask(ix.Printer(), img)
			if err != nil {
				return err
			}
			return s.interrogateAndWatch(ctx, ix, a)
		},
	}
}

func (s *Set) targetFetch(ctx context.Context, ix *interact.Interaction) (memberImage, error) {
	a, err := targetImage(ix)
	if err != nil {
		return memberImage{}, err
	}
	return s.fetcher.fetch(ctx, "", a)
}

// imageName names a member's image in messages, in p's language: “cat.png”.
func imageName(p *locale.Printer, img memberImage) string {
	if img.Name == "" {
		return p.T("image.unnamed", nil)
	}
	return p.T("image.named", locale.Args{"Name": clip(img.Name, 80)})
}
