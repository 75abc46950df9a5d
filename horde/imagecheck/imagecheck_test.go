package imagecheck_test

import (
	"bytes"
	"encoding/binary"
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

func encodeLossless(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := webp.Encode(&buf, picture(w, h), webp.Options{Lossless: true}); err != nil {
		t.Fatalf("encode lossless webp: %v", err)
	}
	return buf.Bytes()
}

// encodeAlpha is a lossy WebP with an alpha channel (VP8X, ALPH, VP8).
func encodeAlpha(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	var buf bytes.Buffer
	if err := webp.Encode(&buf, img, webp.Options{Quality: 80}); err != nil {
		t.Fatalf("encode webp with alpha: %v", err)
	}
	data := buf.Bytes()
	if string(data[12:16]) != "VP8X" {
		t.Fatalf("the webp with alpha starts with chunk %q, not VP8X", data[12:16])
	}
	return data
}

// riffSized sets a RIFF container's size to what data holds.
func riffSized(data []byte) []byte {
	out := append([]byte{}, data...)
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out
}

// withChunk appends a chunk to a WebP and fixes its RIFF size.
func withChunk(data []byte, id string, payload []byte) []byte {
	out := append([]byte{}, data...)
	out = append(out, id...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(payload)))
	out = append(out, payload...)
	if len(payload)%2 == 1 {
		out = append(out, 0)
	}
	return riffSized(out)
}

// cutFrame keeps the first n bytes of a lossy WebP's frame, with the chunk
// and RIFF sizes saying so.
func cutFrame(data []byte, n int) []byte {
	out := append([]byte{}, data[:20+n]...)
	binary.LittleEndian.PutUint32(out[16:20], uint32(n))
	return riffSized(out)
}

// patched is data with byte i set to b.
func patched(data []byte, i int, b byte) []byte {
	out := append([]byte{}, data...)
	out[i] = b
	return out
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
		{"a lossless webp of the size", encodeLossless(t, 64, 64), want, true},
		{"a webp with alpha of the size", encodeAlpha(t, 64, 64), want, true},
		{"a webp with alpha of another size", encodeAlpha(t, 64, 128), want, false},
		{"a truncated webp", webp64[:len(webp64)/2], want, false},
		{"a truncated webp whose RIFF size says so", riffSized(webp64[:len(webp64)/2]), want, false},
		{"a webp whose frame is cut short in its chunk", cutFrame(webp64, 12), want, false},
		{"a webp with html in a chunk after the image", withChunk(webp64, "JUNK", html), want, false},
		{"a webp frame that is not a key frame", patched(webp64, 20, webp64[20]|1), want, false},
		{"a webp frame without its start code", patched(webp64, 23, 0), want, false},
		{"a lossless webp of another version", patched(encodeLossless(t, 64, 64), 24, 0xff), want, false},
		{"an animated webp", patched(encodeAlpha(t, 64, 64), 20, 0x12), want, false},
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

// FuzzCheck: no input makes Check panic or accept a PNG or JPEG that does
// not decode, or a WebP whose header the decoder reads otherwise (its pixels
// are not decoded: the decoder may still find them cut short, never panic).
func FuzzCheck(f *testing.F) {
	f.Add(encode(f, "png", 8, 8))
	f.Add(encode(f, "jpeg", 8, 8))
	f.Add(encode(f, "webp", 8, 8))
	f.Add(encodeAlpha(f, 8, 8))
	f.Add([]byte("RIFF\x10\x00\x00\x00WEBPVP8 "))
	f.Fuzz(func(t *testing.T, data []byte) {
		if imagecheck.Check(data, imagecheck.Size{Width: 8, Height: 8, Upscaled: true}) != nil {
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("accepted bytes whose header does not decode: %v", err)
		}
		if cfg.Width%8 != 0 || cfg.Height%8 != 0 || cfg.Width/8 != cfg.Height/8 {
			t.Fatalf("accepted a %s of %dx%d", format, cfg.Width, cfg.Height)
		}
		if _, _, err := image.Decode(bytes.NewReader(data)); err != nil && format != "webp" {
			t.Fatalf("accepted a %s that does not decode: %v", format, err)
		}
	})
}

func TestInspect(t *testing.T) {
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	tests := []struct {
		name   string
		data   []byte
		w, h   int
		format string
		ok     bool
	}{
		{"png", encode(t, "png", 30, 20), 30, 20, "png", true},
		{"jpeg with a trailer after its end", append(encode(t, "jpeg", 16, 48), "ftypmp4 video"...), 16, 48, "jpeg", true},
		{"webp", encode(t, "webp", 64, 32), 64, 32, "webp", true},
		{"gif", gif, 0, 0, "", false},
		{"html", []byte("<html><body>hi</body></html>"), 0, 0, "", false},
		{"a truncated webp", encode(t, "webp", 64, 32)[:20], 0, 0, "", false},
		{"nothing", nil, 0, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, h, format, err := imagecheck.Inspect(tt.data)
			if !tt.ok {
				if !errors.Is(err, imagecheck.ErrNotImage) {
					t.Fatalf("err = %v, want ErrNotImage", err)
				}
				return
			}
			if err != nil || w != tt.w || h != tt.h || format != tt.format {
				t.Fatalf("Inspect = %dx%d %q, %v; want %dx%d %q", w, h, format, err, tt.w, tt.h, tt.format)
			}
		})
	}
}
