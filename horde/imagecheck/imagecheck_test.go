package imagecheck_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/gen2brain/webp"

	"github.com/hordebot/hordebot/horde/imagecheck"
)

func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 90, A: 255})
		}
	}
	return img
}

func encode(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, picture(w, h))
	case "jpeg":
		err = jpeg.Encode(&buf, picture(w, h), nil)
	case "webp":
		err = webp.Encode(&buf, picture(w, h), webp.Options{Quality: 80})
	}
	if err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	return buf.Bytes()
}

// TestCheck is what a worker may submit as the result of a 64x64 job.
func TestCheck(t *testing.T) {
	want := imagecheck.Size{Width: 64, Height: 64}
	html := []byte("<html><script>alert(1)</script></html>")
	webp64, png64, jpeg64 := encode(t, "webp", 64, 64), encode(t, "png", 64, 64), encode(t, "jpeg", 64, 64)
	tests := []struct {
		name string
		data []byte
		want imagecheck.Size
		ok   bool
	}{
		{"webp of the size", webp64, want, true},
		{"png of the size", png64, want, true},
		{"jpeg of the size", jpeg64, want, true},
		{"another size", encode(t, "png", 64, 128), want, false},
		{"a 4x upscale when the job upscales", encode(t, "png", 256, 256), imagecheck.Size{Width: 64, Height: 64, Upscaled: true}, true},
		{"a 4x upscale when it does not", encode(t, "png", 256, 256), want, false},
		{"a stretched upscale", encode(t, "png", 256, 128), imagecheck.Size{Width: 64, Height: 64, Upscaled: true}, false},
		{"empty", nil, want, false},
		{"html", html, want, false},
		{"a webp header followed by html", append(append([]byte{}, webp64[:30]...), html...), want, false},
		{"a png header followed by html", append(append([]byte{}, png64[:33]...), html...), want, false},
		{"a valid png with html appended", append(append([]byte{}, png64...), html...), want, false},
		{"a valid webp with html appended", append(append([]byte{}, webp64...), html...), want, false},
		{"a valid jpeg with html appended", append(append([]byte{}, jpeg64...), html...), want, false},
		{"a truncated png", png64[:len(png64)/2], want, false},
		{"a gif", []byte("GIF89a\x40\x00\x40\x00\x00\x00\x00;"), want, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := imagecheck.Check(tt.data, tt.want)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, imagecheck.ErrNotImage) {
				t.Fatalf("err = %v, want a refusal wrapping ErrNotImage", err)
			}
		})
	}
}

// FuzzCheck: no input makes Check panic or accept bytes that do not decode.
func FuzzCheck(f *testing.F) {
	f.Add(encode(f, "png", 8, 8))
	f.Add(encode(f, "jpeg", 8, 8))
	f.Add(encode(f, "webp", 8, 8))
	f.Add([]byte("RIFF\x10\x00\x00\x00WEBPVP8 "))
	f.Fuzz(func(t *testing.T, data []byte) {
		if imagecheck.Check(data, imagecheck.Size{Width: 8, Height: 8, Upscaled: true}) == nil {
			if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
				t.Fatalf("accepted bytes that do not decode: %v", err)
			}
		}
	})
}
