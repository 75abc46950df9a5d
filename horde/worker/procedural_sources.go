package worker

import (
	"fmt"
	"image"

	"golang.org/x/image/draw"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// applySources makes a procedural picture honest about the job's source
// images, with no model: img2img blends the source (resized to the job's
// size) with the picture by the denoising strength (0 keeps the source, 1
// is the picture alone; unset is aihorde.DefaultDenoisingStrength);
// inpainting and outpainting paint the picture where the mask is white
// (source_mask, or the source's transparent pixels when there is none) and
// keep the source elsewhere; a remix is the average of its images
// weighted by their strengths (the source's is 1). The corner marker is
// drawn again over the result. A job without a source is left alone.
func applySources(img *image.NRGBA, p *ImageParams) error {
	if p == nil || len(p.SourceImage) == 0 {
		return nil
	}
	b := img.Bounds()
	src, err := sourceAt(p.SourceImage, b)
	if err != nil {
		return fmt.Errorf("source image: %w", err)
	}
	switch p.SourceProcessing {
	case "inpainting", "outpainting":
		paint, err := paintMask(src, p.SourceMask, b)
		if err != nil {
			return fmt.Errorf("source mask: %w", err)
		}
		for i := 0; i < len(img.Pix); i += 4 {
			if !paint[i/4] {
				copy(img.Pix[i:i+3], src.Pix[i:i+3])
			}
		}
	case "remix":
		sum := make([]float64, len(img.Pix))
		total := 1.0
		add := func(im *image.NRGBA, weight float64) {
			for i := 0; i < len(sum); i += 4 {
				for c := range 3 {
					sum[i+c] += float64(im.Pix[i+c]) * weight
				}
			}
		}
		add(src, 1)
		for i, x := range p.ExtraSourceImages {
			extra, err := sourceAt(x.Image, b)
			if err != nil {
				return fmt.Errorf("extra source image %d: %w", i+1, err)
			}
			w := min(max(x.Strength, 0), 1)
			add(extra, w)
			total += w
		}
		for i := 0; i < len(img.Pix); i += 4 {
			for c := range 3 {
				img.Pix[i+c] = uint8(sum[i+c]/total + 0.5)
			}
		}
	default: // img2img
		d := p.DenoisingStrength
		if d <= 0 {
			d = aihorde.DefaultDenoisingStrength
		}
		d = min(d, 1)
		for i := 0; i < len(img.Pix); i += 4 {
			for c := range 3 {
				img.Pix[i+c] = uint8(float64(src.Pix[i+c])*(1-d) + float64(img.Pix[i+c])*d + 0.5)
			}
		}
	}
	cornerMarker(img)
	return nil
}

// sourceAt decodes a source image and scales it to the bounds b.
func sourceAt(data []byte, b image.Rectangle) (*image.NRGBA, error) {
	im, err := decodeSource(data)
	if err != nil {
		return nil, err
	}
	out := image.NewNRGBA(b)
	draw.BiLinear.Scale(out, b, im, im.Bounds(), draw.Src, nil)
	return out, nil
}

// paintMask says, pixel by pixel, where inpainting paints: where the mask
// is white (brighter than mid-grey), or, with no mask, where the source is
// transparent (the AI Horde's convention when source_mask is left out).
func paintMask(src *image.NRGBA, mask []byte, b image.Rectangle) ([]bool, error) {
	paint := make([]bool, b.Dx()*b.Dy())
	if len(mask) == 0 {
		for i := range paint {
			paint[i] = src.Pix[i*4+3] < 128
		}
		return paint, nil
	}
	m, err := sourceAt(mask, b)
	if err != nil {
		return nil, err
	}
	for i := range paint {
		o := i * 4
		luma := (299*int(m.Pix[o]) + 587*int(m.Pix[o+1]) + 114*int(m.Pix[o+2])) / 1000
		paint[i] = luma >= 128
	}
	return paint, nil
}
