package commands

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"github.com/disintegration/imaging"
)

// gridGap is the space between the cells of a grid, in pixels.
const gridGap = 8

// ComposeGrid lays out up to four images: one image as it is, two side by
// side (1x2), three or four in a 2x2 grid. Every cell has the size of the
// largest image; a smaller image is centred in its cell. Images beyond the
// fourth are ignored. It returns nil for no images.
func ComposeGrid(images []image.Image) image.Image {
	var imgs []image.Image
	for _, im := range images {
		if im != nil {
			imgs = append(imgs, im)
		}
	}
	if len(imgs) > 4 {
		imgs = imgs[:4]
	}
	switch len(imgs) {
	case 0:
		return nil
	case 1:
		return imgs[0]
	}
	cw, ch := 0, 0
	for _, im := range imgs {
		b := im.Bounds()
		cw = max(cw, b.Dx())
		ch = max(ch, b.Dy())
	}
	cols, rows := 2, 1
	if len(imgs) > 2 {
		rows = 2
	}
	dst := imaging.New(cols*cw+(cols-1)*gridGap, rows*ch+(rows-1)*gridGap, color.NRGBA{0x20, 0x22, 0x25, 0xff})
	for i, im := range imgs {
		b := im.Bounds()
		x := (i%cols)*(cw+gridGap) + (cw-b.Dx())/2
		y := (i/cols)*(ch+gridGap) + (ch-b.Dy())/2
		dst = imaging.Paste(dst, im, image.Pt(x, y))
	}
	return dst
}

// EncodeWithin encodes img as PNG, or, when the PNG is larger than limit
// bytes, as JPEG of falling quality and then at smaller sizes until it fits.
// It returns the bytes and the file extension ("png" or "jpg").
func EncodeWithin(img image.Image, limit int) ([]byte, string, error) {
	if img == nil {
		return nil, "", fmt.Errorf("encode image: no image")
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, "", fmt.Errorf("encode png: %w", err)
	}
	if limit <= 0 || buf.Len() <= limit {
		return buf.Bytes(), "png", nil
	}
	cur := img
	for range 4 {
		for _, q := range []int{90, 80, 65} {
			buf.Reset()
			if err := jpeg.Encode(&buf, cur, &jpeg.Options{Quality: q}); err != nil {
				return nil, "", fmt.Errorf("encode jpeg: %w", err)
			}
			if buf.Len() <= limit {
				return buf.Bytes(), "jpg", nil
			}
		}
		b := cur.Bounds()
		if b.Dx() < 128 || b.Dy() < 128 {
			break
		}
		cur = imaging.Resize(cur, b.Dx()/2, 0, imaging.Linear)
	}
	return nil, "", fmt.Errorf("image does not fit in %d bytes", limit)
}
