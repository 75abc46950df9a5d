package imagecheck

import "fmt"

// Preview checks a live preview (horde/previews.go): a whole WebP, PNG or
// JPEG, as Check requires of results, of any size up to maxSide pixels on
// each side. It returns the image's content type, or an error wrapping
// ErrNotImage saying why not. The size is read from the header before the
// image is decoded, so a huge declared size allocates nothing.
func Preview(data []byte, maxSide int) (string, error) {
	w, h, format, err := header(data)
	if err != nil {
		return "", err
	}
	if w < 1 || h < 1 || w > maxSide || h > maxSide {
		return "", fmt.Errorf("%w: the image is %dx%d; at most %dx%d is taken", ErrNotImage, w, h, maxSide, maxSide)
	}
	if err := whole(format, data); err != nil {
		return "", err
	}
	return "image/" + format, nil
}
