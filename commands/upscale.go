package commands

// The message context menu Upscale asks the alchemists for a 2x upscale
// (RealESRGAN_x2plus) of the message's first image (alchemy.go); the
// image-message buttons Upscale 2x and 4x do it for one image of a result
// (image_buttons.go).

import "github.com/hordebot/hordebot/bot/interact/locale"

func (s *Set) upscaleMenu() *Command {
	return s.alchemyMenu(menuUpscale, func(p *locale.Printer, img memberImage) (alchemyAsk, error) {
		return upscaleAsk(img.Data, img.Width, img.Height, 2, imageName(p, img))
	})
}
