package imagecheck

import (
	"bytes"
	"fmt"
	"image"
)

// Preview checks a live preview (horde/previews.go): a complete WebP, PNG
// or JPEG, as Check requires of results, of any size up to maxSide pixels
// on each side. It returns the image's content type, or an error wrapping
// ErrNotImage saying why not. The size is read from the header before the
// image is decoded, so a huge declared size allocates nothing.
func Preview(data []byte, maxSide int) (string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: the bytes are not a WebP, PNG or JPEG image", ErrNotImage)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxSide || cfg.Height > maxSide {
		return "", fmt.Errorf("%w: the image is %dx%d; at most %dx%d is taken", ErrNotImage, cfg.Width, cfg.Height, maxSide, maxSide)
	}
	if err := ends(format, data); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrNotImage, format, err)
	}
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("%w: the %s image does not decode: %v", ErrNotImage, format, err)
	}
	return "image/" + format, nil
}
