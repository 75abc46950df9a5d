package worker

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// zoomCanvas is what Discord's Zoom out sends: a w x h picture whose
// middle half (w/2 x h/2) is opaque red and whose border is transparent.
func zoomCanvas(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := h / 4; y < h*3/4; y++ {
		for x := w / 4; x < w*3/4; x++ {
			img.SetNRGBA(x, y, color.NRGBA{200, 10, 10, 255})
		}
	}
	return pngOf(t, img)
}

// squareMask is a w x h mask, white (paint) in the square [x0,x1)x[y0,y1).
func squareMask(t *testing.T, w, h, x0, y0, x1, y1 int) []byte {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m.SetGray(x, y, color.Gray{255})
		}
	}
	return pngOf(t, m)
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// paintedAt reports, for a decoded mask (white paints), whether (x, y) is painted.
func paintedAt(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return (r+g+b)/3 >= 0x8000
}

func TestA1111Painting(t *testing.T) {
	tests := []struct {
		name       string
		processing string
		source     func(t *testing.T) []byte
		mask       func(t *testing.T) []byte
		strength   float64
		// want: inpainting_fill, denoising_strength, and two probe points
		// of the mask sent: painted, kept.
		fill, denoise float64
		paint, keep   image.Point
	}{
		{"outpainting of a zoom-out canvas (no mask: its transparent border)", "outpainting",
			func(t *testing.T) []byte { return zoomCanvas(t, 96, 64) }, nil, 0.5,
			a1111FillLatentNoise, 1, image.Pt(2, 2), image.Pt(48, 32)},
		{"inpainting with a mask keeps the source elsewhere", "inpainting",
			func(t *testing.T) []byte { return zoomCanvas(t, 96, 64) },
			func(t *testing.T) []byte { return squareMask(t, 96, 64, 40, 20, 60, 40) }, 0.6,
			a1111FillOriginal, 0.6, image.Pt(50, 30), image.Pt(5, 5)},
		{"a mask of another size is scaled to the job's", "inpainting",
			func(t *testing.T) []byte { return zoomCanvas(t, 96, 64) },
			func(t *testing.T) []byte { return squareMask(t, 48, 32, 0, 0, 24, 32) }, 0,
			a1111FillOriginal, 0.75, image.Pt(10, 10), image.Pt(90, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeA1111(t)
			a, err := NewA1111(A1111Options{URL: f.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			job := a1111Job()
			job.Image.SourceImage, job.Image.SourceProcessing, job.Image.DenoisingStrength = tt.source(t), tt.processing, tt.strength
			if tt.mask != nil {
				job.Image.SourceMask = tt.mask(t)
			}
			res, err := a.Generate(context.Background(), job)
			if err != nil {
				t.Fatal(err)
			}
			checkWebP(t, res.Image, 96, 64)
			if f.path != "/sdapi/v1/img2img" {
				t.Fatalf("path %q, want img2img", f.path)
			}
			if f.body["inpainting_fill"] != tt.fill || f.body["denoising_strength"] != tt.denoise ||
				f.body["inpainting_mask_invert"] != 0.0 || f.body["inpaint_full_res"] != false || f.body["mask_blur"] != 4.0 {
				t.Errorf("painting fields: fill %v denoise %v invert %v full_res %v blur %v", f.body["inpainting_fill"],
					f.body["denoising_strength"], f.body["inpainting_mask_invert"], f.body["inpaint_full_res"], f.body["mask_blur"])
			}
			raw, err := base64.StdEncoding.DecodeString(f.body["mask"].(string))
			if err != nil {
				t.Fatal(err)
			}
			mask, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("mask: %v", err)
			}
			if b := mask.Bounds(); b.Dx() != 96 || b.Dy() != 64 {
				t.Fatalf("mask %v, want the job's 96x64", b)
			}
			if !paintedAt(mask, tt.paint.X, tt.paint.Y) || paintedAt(mask, tt.keep.X, tt.keep.Y) {
				t.Errorf("mask paints %v: %v (want true), %v: %v (want false)", tt.paint, paintedAt(mask, tt.paint.X, tt.paint.Y),
					tt.keep, paintedAt(mask, tt.keep.X, tt.keep.Y))
			}
		})
	}
	t.Run("img2img sends no painting fields", func(t *testing.T) {
		f := newFakeA1111(t)
		a, err := NewA1111(A1111Options{URL: f.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		job := a1111Job()
		job.Image.SourceImage, job.Image.SourceProcessing = zoomCanvas(t, 96, 64), "img2img"
		if _, err := a.Generate(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"mask", "inpainting_fill", "mask_blur"} {
			if _, ok := f.body[k]; ok {
				t.Errorf("img2img sent %s", k)
			}
		}
	})
	t.Run("a mask that is not an image faults the job", func(t *testing.T) {
		f := newFakeA1111(t)
		a, err := NewA1111(A1111Options{URL: f.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		job := a1111Job()
		job.Image.SourceImage, job.Image.SourceProcessing, job.Image.SourceMask = zoomCanvas(t, 96, 64), "inpainting", []byte("junk")
		if _, err := a.Generate(context.Background(), job); err == nil {
			t.Fatal("no error")
		}
		if f.body != nil {
			t.Error("the web UI was asked anyway")
		}
	})
}
