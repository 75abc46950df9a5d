package api

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"image"
	_ "image/gif"  // decodable result format
	_ "image/jpeg" // decodable result format
	_ "image/png"  // decodable result format
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// maxImageSide bounds the decoded size a result image may claim (an 8x
// upscale of the largest request), so that a forged header cannot announce
// a gigapixel image.
const maxImageSide = 8 * aihorde.MaxSide

// sniffImage checks that data is an image this horde can store and serve:
// WebP (the AI Horde's format), PNG, JPEG or GIF. It returns the format.
// WebP is checked structurally (RIFF container, a VP8/VP8L/VP8X first
// chunk, consistent sizes); the others by decoding their header.
func sniffImage(data []byte, field string) (string, error) {
	return sniffHeader(data, int64(len(data)), field)
}

// sniffHeader is sniffImage on the first bytes of an image of size bytes
// (-1: unknown, then WebP's sizes are checked against head alone where they
// fit in it).
func sniffHeader(head []byte, size int64, field string) (string, error) {
	if len(head) == 0 {
		return "", horde.Invalidf(field, "%s is empty", field)
	}
	if isWebP(head, size) {
		return "webp", nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil {
		return "", &horde.Error{Kind: horde.KindInvalid, Code: "InvalidImage", Field: field,
			Message: field + " is not a WebP, PNG, JPEG or GIF image", Err: err}
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImageSide || cfg.Height > maxImageSide {
		return "", horde.Invalidf(field, "%s has an impossible size %dx%d", field, cfg.Width, cfg.Height)
	}
	return format, nil
}

// isWebP reports whether data, the first bytes of a file of size bytes
// (-1: unknown), is a well-formed WebP container.
func isWebP(data []byte, size int64) bool {
	if len(data) < 20 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return false
	}
	riffSize := binary.LittleEndian.Uint32(data[4:8])
	if size < 0 {
		size = int64(^uint32(0)) + 8
	}
	if uint64(riffSize)+8 > uint64(size) || riffSize < 12 {
		return false
	}
	switch string(data[12:16]) {
	case "VP8 ", "VP8L", "VP8X":
	default:
		return false
	}
	chunkSize := binary.LittleEndian.Uint32(data[16:20])
	return uint64(chunkSize)+20 <= uint64(riffSize)+8
}

// decodeBase64Image decodes an inline base64 image, tolerating a data: URL
// prefix and missing padding, and checks that it is an image.
func decodeBase64Image(s, field string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		if _, rest, ok := strings.Cut(s, ","); ok {
			s = rest
		}
	}
	s = strings.TrimSpace(s)
	var data []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		data, err = enc.DecodeString(s)
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, &horde.Error{Kind: horde.KindInvalid, Code: "InvalidImage", Field: field,
			Message: field + " must be \"R2\" or a base64-encoded image", Err: err}
	}
	if _, err := sniffImage(data, field); err != nil {
		return nil, err
	}
	return data, nil
}
