// Package imagecheck tells whether the bytes a worker submits are a real
// image of the size its job asked for, before the horde pays for them: a
// WebP (the AI Horde's format) whose container and frame header are whole
// and of the kind the decoder takes (webp.go; its pixels are not decoded),
// or a PNG or JPEG that decodes completely; whose container ends where its
// own structure says it ends (no HTML or script appended to a valid
// header); and whose size is the job's (or a whole multiple of it, for jobs
// whose post-processing upscales).
package imagecheck

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // a result format
	_ "image/png"  // a result format

	_ "golang.org/x/image/webp" // the AI Horde's result format
)

// MaxScale is the largest upscale factor a post-processed result may have.
const MaxScale = 8

// Size is what a job asked for. Upscaled allows whole multiples of
// Width x Height up to MaxScale (post-processing such as RealESRGAN_x4plus).
type Size struct {
	Width, Height int
	Upscaled      bool
}

// ErrNotImage is wrapped by every refusal of Check.
var ErrNotImage = errors.New("not a valid result image")

// Check returns nil when data is a whole WebP, PNG or JPEG image of the
// wanted size, and an error wrapping ErrNotImage saying why not otherwise.
// A WebP's structure is checked without decoding its pixels; a PNG or JPEG
// is decoded whole, after checking from the header that the decode will not
// allocate more than the wanted size needs.
func Check(data []byte, want Size) error {
	w, h, format, err := header(data)
	if err != nil {
		return err
	}
	if !sizeFits(w, h, want) {
		return fmt.Errorf("%w: the image is %dx%d and the job asked for %dx%d", ErrNotImage, w, h, want.Width, want.Height)
	}
	return whole(format, data)
}

// header returns the size and format of a WebP, PNG or JPEG from its
// header; a WebP's whole structure is checked here (webpSize).
func header(data []byte) (width, height int, format string, err error) {
	if len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP" {
		w, h, err := webpSize(data)
		if err != nil {
			return 0, 0, "", fmt.Errorf("%w: webp: %v", ErrNotImage, err)
		}
		return w, h, "webp", nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format == "webp" {
		return 0, 0, "", fmt.Errorf("%w: the bytes are not a WebP, PNG or JPEG image", ErrNotImage)
	}
	return cfg.Width, cfg.Height, format, nil
}

// whole checks, once the size is known to be acceptable, that a PNG or
// JPEG ends where its structure says and decodes completely (a WebP was
// checked whole by header).
func whole(format string, data []byte) error {
	if format == "webp" {
		return nil
	}
	if err := ends(format, data); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotImage, format, err)
	}
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("%w: the %s image does not decode: %v", ErrNotImage, format, err)
	}
	return nil
}

// sizeFits reports whether w x h is the wanted size (or a whole multiple of
// it, when upscaling is allowed).
func sizeFits(w, h int, want Size) bool {
	if want.Width <= 0 || want.Height <= 0 {
		return false
	}
	if w == want.Width && h == want.Height {
		return true
	}
	if !want.Upscaled || w%want.Width != 0 || h%want.Height != 0 {
		return false
	}
	k := w / want.Width
	return k >= 1 && k <= MaxScale && h/want.Height == k
}

// ends checks that nothing follows the image's own end: the IEND chunk of a
// PNG, the EOI marker of a JPEG (a WebP's RIFF size: webpSize).
func ends(format string, data []byte) error {
	switch format {
	case "png":
		iend := []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}
		if !bytes.HasSuffix(data, iend) {
			return errors.New("the image does not end with its IEND chunk")
		}
	case "jpeg":
		if !bytes.HasSuffix(bytes.TrimRight(data, "\x00"), []byte{0xFF, 0xD9}) {
			return errors.New("the image does not end with its EOI marker")
		}
	default:
		return fmt.Errorf("format %s is not accepted", format)
	}
	return nil
}

// Inspect returns the size and format ("png", "jpeg" or "webp") of an image
// from its header alone, without decoding its pixels, so that a caller can
// refuse one too large before decoding it; a WebP's structure is checked
// whole. Other bytes (a GIF, HTML, a truncated header) are an error
// wrapping ErrNotImage. Unlike Check it accepts bytes after the image's
// end, as a member's photos carry (a phone's motion-photo video after a
// JPEG's EOI).
func Inspect(data []byte) (width, height int, format string, err error) {
	return header(data)
}
