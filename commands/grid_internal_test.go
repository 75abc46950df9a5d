package commands

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// TestEncodeJPEGBandsDecodesAsOnePiece checks that the bands joined with
// restart markers decode to exactly the pixels of image/jpeg's one-piece
// encoding of the same image, at sizes that do and do not fill the last
// band and the last MCU column.
func TestEncodeJPEGBandsDecodesAsOnePiece(t *testing.T) {
	tests := []struct {
		name string
		w, h int
	}{
		{"one band", 64, 48},
		{"exactly two bands", 256, 2 * jpegBandRows},
		{"a partial last band", 200, 3*jpegBandRows + 37},
		{"a grid of 1024px images", 2*1024 + gridGap, 2*1024 + gridGap},
		{"more than eight bands (RST wraps)", 40, 11*jpegBandRows + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tt.w), uint64(tt.h)))
			img := image.NewRGBA(image.Rect(0, 0, tt.w, tt.h))
			for y := range tt.h {
				for x := range tt.w {
					i := img.PixOffset(x, y)
					img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = byte(x+y), byte(r.IntN(256)), byte(y*3), 0xff
				}
			}
			got, err := encodeJPEGBands(img.Bounds().Size(), 85, func(dst *image.RGBA) {
				for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
					copy(dst.Pix[dst.PixOffset(0, y):], img.Pix[img.PixOffset(0, y):img.PixOffset(0, y+1)])
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := jpeg.Encode(&want, img, &jpeg.Options{Quality: 85}); err != nil {
				t.Fatal(err)
			}
			gi, err := jpeg.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("the banded JPEG does not decode: %v", err)
			}
			wi, err := jpeg.Decode(bytes.NewReader(want.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			g, w := gi.(*image.YCbCr), wi.(*image.YCbCr)
			if g.Rect != w.Rect || g.SubsampleRatio != w.SubsampleRatio {
				t.Fatalf("decoded %v %v, want %v %v", g.Rect, g.SubsampleRatio, w.Rect, w.SubsampleRatio)
			}
			if !bytes.Equal(g.Y, w.Y) || !bytes.Equal(g.Cb, w.Cb) || !bytes.Equal(g.Cr, w.Cr) {
				t.Fatal("the banded JPEG decodes to other pixels than the one-piece JPEG")
			}
		})
	}
}

// TestJPEGPartsRefusesBrokenInput: joining bands never reads past a
// truncated or foreign encoding.
func TestJPEGPartsRefusesBrokenInput(t *testing.T) {
	var ok bytes.Buffer
	if err := jpeg.Encode(&ok, image.NewRGBA(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	full := ok.Bytes()
	for name, b := range map[string][]byte{
		"empty":           nil,
		"png":             []byte("\x89PNG\r\n\x1a\n\x00\x00"),
		"truncated":       append(append([]byte{}, full[:40]...), 0xff, 0xd9),
		"no sos":          {0xff, 0xd8, 0xff, 0xdb, 0x00, 0x02, 0xff, 0xd9},
		"huge seg length": {0xff, 0xd8, 0xff, 0xdb, 0xff, 0xff, 0xff, 0xd9},
	} {
		if _, _, _, err := jpegParts(b); err == nil {
			t.Errorf("%s: split without an error", name)
		}
	}
	if _, _, scan, err := jpegParts(full); err != nil || len(scan) == 0 {
		t.Fatalf("a valid JPEG: scan of %d bytes, %v", len(scan), err)
	}
}
