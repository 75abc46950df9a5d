package worker

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	_ "image/jpeg" // backends may return JPEG
	"image/png"    // A1111 returns PNG; the procedural backends may encode it
	"strings"

	"github.com/gen2brain/webp" // also registers the WebP decoder
)

// webpQuality is the lossy WebP quality of every image the worker submits.
const webpQuality = 80

// webpMethod is libwebp's speed/size trade-off (0 fast .. 6 small). 2 halves
// the encode time of the default 4 (about 30 ms instead of 60 ms for
// 512x512 on one core, BenchmarkProceduralImage512) for a few percent of size.
const webpMethod = 2

// maxImageBytes bounds a decoded backend or source image.
const maxImageBytes = 64 << 20

// EncodeWebP encodes img as lossy WebP at quality 80, the format the AI
// Horde expects from workers. It is safe for concurrent use.
func EncodeWebP(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := webp.Encode(&buf, img, webp.Options{Quality: webpQuality, Method: webpMethod}); err != nil {
		return nil, fmt.Errorf("encode webp: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeAs encodes img as format: "png", or "webp" (EncodeWebP) for "" or
// anything else. It returns the bytes and their content type.
func encodeAs(img image.Image, format string) ([]byte, string, error) {
	if format == "png" {
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
			return nil, "", fmt.Errorf("encode png: %w", err)
		}
		return buf.Bytes(), "image/png", nil
	}
	data, err := EncodeWebP(img)
	return data, "image/webp", err
}

// decodeImage decodes a PNG, JPEG or WebP image.
func decodeImage(data []byte) (image.Image, string, error) {
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("decode image (%d bytes): %w", len(data), err)
	}
	return img, format, nil
}

// decodeBase64 decodes standard base64 with or without padding, and with or
// without a "data:...;base64," prefix.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ","); i >= 0 {
			s = s[i+1:]
		}
	}
	if base64.StdEncoding.DecodedLen(len(s)) > maxImageBytes {
		return nil, fmt.Errorf("base64 image: over %d bytes", maxImageBytes)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		return b, nil
	}
	b, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err2 == nil {
		return b, nil
	}
	return nil, fmt.Errorf("base64 image: %w", err)
}
