// Package imagecheck tells whether the bytes a worker submits are a real
// image of the size its job asked for, before the horde pays for them: a
// WebP (the AI Horde's format), PNG or JPEG that decodes completely, whose
// container ends where its own structure says it ends (no HTML or script
// appended to a valid header), and whose size is the job's (or a whole
// multiple of it, for jobs whose post-processing upscales).
package imagecheck

import (
	"bytes"
	"encoding/binary"
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

// Check returns nil when data is a complete WebP, PNG or JPEG image of the
// wanted size, and an error wrapping ErrNotImage saying why not otherwise.
// It decodes the whole image, after checking from the header that the
// decode will not allocate more than the wanted size needs.
func Check(data []byte, want Size) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: the bytes are not a WebP, PNG or JPEG image", ErrNotImage)
	}
	if !sizeFits(cfg.Width, cfg.Height, want) {
		return fmt.Errorf("%w: the image is %dx%d and the job asked for %dx%d", ErrNotImage, cfg.Width, cfg.Height, want.Width, want.Height)
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

// ends checks that nothing follows the image's own end: the RIFF size of a
// WebP, the IEND chunk of a PNG, the EOI marker of a JPEG.
func ends(format string, data []byte) error {
	switch format {
	case "webp":
		if len(data) < 12 || string(data[:4]) != "RIFF" {
			return errors.New("no RIFF container")
		}
		size := uint64(binary.LittleEndian.Uint32(data[4:8])) + 8
		if size != uint64(len(data)) && size+1 != uint64(len(data)) { // a pad byte is allowed
			return fmt.Errorf("the RIFF container holds %d bytes and %d were sent", size, len(data))
		}
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
