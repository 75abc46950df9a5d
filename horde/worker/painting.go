package worker

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
)

// Painting (the AI Horde's source_processing "inpainting" and
// "outpainting"): the source image is kept where the mask is black and
// painted where it is white. A job without source_mask paints where the
// source is transparent, the AI Horde's convention (an outpainting canvas
// is a picture on a transparent border). The backends that paint
// (AUTOMATIC1111's img2img with a mask, ComfyUI's VAEEncodeForInpaint, the
// procedural backend) read the mask through jobPaint, so that they agree
// on where to paint.

// isPainting reports whether an image job is an inpainting or an outpainting.
func isPainting(p *ImageParams) bool {
	return p != nil && len(p.SourceImage) > 0 &&
		(p.SourceProcessing == "inpainting" || p.SourceProcessing == "outpainting")
}

// paintJob is a painting job's source and mask at the job's size.
type paintJob struct {
	src   *image.NRGBA // the source, scaled to the job's size
	paint []bool       // pixel by pixel: true where to paint
}

// jobPaint decodes a painting job's source and mask, both scaled to the
// job's size.
func jobPaint(p *ImageParams) (paintJob, error) {
	if p.Width < 1 || p.Height < 1 {
		return paintJob{}, fmt.Errorf("painting: size %dx%d", p.Width, p.Height)
	}
	b := image.Rect(0, 0, p.Width, p.Height)
	src, err := sourceAt(p.SourceImage, b)
	if err != nil {
		return paintJob{}, fmt.Errorf("painting: source image: %w", err)
	}
	paint, err := paintMask(src, p.SourceMask, b)
	if err != nil {
		return paintJob{}, fmt.Errorf("painting: source mask: %w", err)
	}
	return paintJob{src: src, paint: paint}, nil
}

// painted counts the pixels to paint.
func (j paintJob) painted() int {
	n := 0
	for _, p := range j.paint {
		if p {
			n++
		}
	}
	return n
}

// maskPNG is the mask as a greyscale PNG: white where to paint, black
// where to keep (AUTOMATIC1111's img2img mask, not inverted).
func (j paintJob) maskPNG() ([]byte, error) {
	b := j.src.Bounds()
	m := image.NewGray(b)
	for i, p := range j.paint {
		if p {
			m.Pix[i] = 255
		}
	}
	return encodePNG(m)
}

// canvasPNG is the source with the part to paint transparent (alpha 0),
// the rest opaque: ComfyUI's LoadImage reads its MASK from the alpha
// channel (1 where transparent), so one upload carries image and mask.
func (j paintJob) canvasPNG() ([]byte, error) {
	out := image.NewNRGBA(j.src.Bounds())
	copy(out.Pix, j.src.Pix)
	for i, p := range j.paint {
		a := uint8(255)
		if p {
			a = 0
		}
		out.Pix[i*4+3] = a
	}
	return encodePNG(out)
}

// encodePNG encodes img as a PNG, fast.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
