package api

import (
	"fmt"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// extraSourceImages validates a request's extra_source_images (Stable
// Cascade remix, as on the AI Horde): at most 5, each with a non-empty image
// (base64 or URL, within the prompt-sized limit of a source image's field)
// and a strength in [0.01, 1] (1 when left out).
func extraSourceImages(c *check, in []aihorde.ExtraSourceImage) []horde.ExtraSourceImage {
	if len(in) > aihorde.MaxExtraSourceImages {
		c.fail("extra_source_images", "extra_source_images may have at most %d entries, not %d", aihorde.MaxExtraSourceImages, len(in))
		return nil
	}
	var out []horde.ExtraSourceImage
	for i, x := range in {
		field := fmt.Sprintf("extra_source_images.%d", i)
		if x.Image == "" {
			c.fail(field+".image", "%s.image must be a base64 image or a URL", field)
			continue
		}
		strength := valueOr(x.Strength, aihorde.DefaultExtraSourceStrength)
		c.floatRange(field+".strength", strength, aihorde.MinDenoisingStrength, aihorde.MaxDenoisingStrength)
		out = append(out, horde.ExtraSourceImage{Image: x.Image, Strength: strength})
	}
	return out
}

// extraSourceImagesOut is the pop answer's extra_source_images.
func extraSourceImagesOut(in []horde.ExtraSourceImage) []aihorde.ExtraSourceImage {
	var out []aihorde.ExtraSourceImage
	for _, x := range in {
		out = append(out, aihorde.ExtraSourceImage{Image: x.Image, Strength: &x.Strength})
	}
	return out
}
