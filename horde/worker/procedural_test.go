package worker

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/gen2brain/webp"
	"github.com/hordebot/hordebot/horde/aihorde"
)

func imageJob(prompt string, seed int64, w, h int) Job {
	return Job{ID: "j", Kind: aihorde.KindImage, Model: ProceduralModel, Prompt: prompt, Seed: seed, SeedSet: true,
		Image: &ImageParams{Width: w, Height: h, Steps: 20}}
}

func TestProceduralImage(t *testing.T) {
	p := NewProcedural()
	ctx := context.Background()
	gen := func(prompt string, seed int64, w, h int) []byte {
		t.Helper()
		res, err := p.Generate(ctx, imageJob(prompt, seed, w, h))
		if err != nil {
			t.Fatalf("Generate(%q, %d): %v", prompt, seed, err)
		}
		cfg, err := webp.DecodeConfig(bytes.NewReader(res.Image))
		if err != nil {
			t.Fatalf("result is not WebP: %v", err)
		}
		if cfg.Width != w || cfg.Height != h {
			t.Fatalf("size %dx%d, want %dx%d", cfg.Width, cfg.Height, w, h)
		}
		if len(res.Metadata) != 1 || res.Metadata[0] != proceduralNote {
			t.Fatalf("metadata %+v, want the procedural note", res.Metadata)
		}
		if res.Seed != seed || res.State != aihorde.StateOK {
			t.Fatalf("seed %d state %q", res.Seed, res.State)
		}
		return res.Image
	}
	a := gen("a red fox in the snow", 42, 512, 512)
	tests := []struct {
		name   string
		prompt string
		seed   int64
		same   bool
	}{
		{"same prompt and seed is identical", "a red fox in the snow", 42, true},
		{"another seed differs", "a red fox in the snow", 43, false},
		{"another prompt differs", "a blue whale", 42, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := gen(tt.prompt, tt.seed, 512, 512)
			if bytes.Equal(a, b) != tt.same {
				t.Fatalf("equal = %v, want %v", !tt.same, tt.same)
			}
		})
	}
	t.Run("odd sizes keep their size", func(t *testing.T) {
		gen("wide", 1, 768, 320)
		gen("tiny", 1, 3, 5)
	})
}

func TestProceduralImagePixelsDiffer(t *testing.T) {
	a, err := proceduralImage("a red fox", 1, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proceduralImage("a castle at night", 1, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	var diff int
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d > 32 || d < -32 {
			diff++
		}
	}
	// Visibly different: a large share of the samples differ by more than 32 levels.
	if diff < len(a.Pix)/10 {
		t.Fatalf("only %d of %d samples differ visibly", diff, len(a.Pix))
	}
	// The corner marker is black and white.
	last := a.PixOffset(63, 63)
	if v := a.Pix[last]; v != 0 && v != 255 {
		t.Fatalf("corner pixel %d, want black or white", v)
	}
}

func TestProceduralRejects(t *testing.T) {
	p := NewProcedural()
	tests := []struct {
		name string
		job  Job
	}{
		{"zero width", imageJob("x", 1, 0, 512)},
		{"too large", imageJob("x", 1, aihorde.MaxSide+1, 512)},
		{"image job without params", Job{ID: "j", Kind: aihorde.KindImage}},
		{"unknown kind", Job{ID: "j", Kind: "video"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.Generate(context.Background(), tt.job); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.Generate(ctx, imageJob("x", 1, 64, 64)); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestProceduralText(t *testing.T) {
	p := NewProcedural()
	gen := func(prompt string, seed int64, maxLen int) string {
		t.Helper()
		res, err := p.Generate(context.Background(), Job{ID: "t", Kind: aihorde.KindText, Prompt: prompt, Seed: seed,
			Text: &TextParams{MaxLength: maxLen}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Metadata) != 1 || res.Metadata[0] != proceduralNote {
			t.Fatalf("metadata %+v", res.Metadata)
		}
		return res.Text
	}
	base := gen("Tell me about lighthouses", 7, 120)
	if base != gen("Tell me about lighthouses", 7, 120) {
		t.Fatal("same prompt and seed gave different text")
	}
	if base == gen("Tell me about lighthouses", 8, 120) {
		t.Fatal("another seed gave the same text")
	}
	if base == gen("Write a poem on rivers", 7, 120) {
		t.Fatal("another prompt gave the same text")
	}
	for _, maxLen := range []int{1, 2, 16, 120, 512} {
		words := len(strings.Fields(gen("count me", 1, maxLen)))
		if words < 1 || words > maxLen || words < maxLen/2 {
			t.Errorf("max_length %d: %d words", maxLen, words)
		}
	}
}

func BenchmarkProceduralImage512(b *testing.B) {
	p := NewProcedural()
	job := imageJob("a lighthouse on a cliff at dawn", 1234, 512, 512)
	ctx := context.Background()
	if _, err := p.Generate(ctx, job); err != nil { // compile the WebP module outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		job.Seed = int64(i)
		if _, err := p.Generate(ctx, job); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProceduralDraw512(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := proceduralImage("a lighthouse on a cliff at dawn", int64(i), 512, 512); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProceduralUsesSources checks that the procedural backend is honest
// about a job's source image: img2img keeps more of it the lower the
// strength, outpainting keeps it where the mask is black and paints only
// where it is white (or where the source is transparent, with no mask).
func TestProceduralUsesSources(t *testing.T) {
	ctx := context.Background()
	green := color.NRGBA{G: 220, A: 255}
	src := solidPNG(16, 16, green)
	// A mask painting the right half only.
	maskImg := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 32; x < 64; x++ {
			maskImg.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
		}
		for x := 0; x < 32; x++ {
			maskImg.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	var mask bytes.Buffer
	if err := png.Encode(&mask, maskImg); err != nil {
		t.Fatal(err)
	}
	// A source transparent on its right half: the mask is its alpha.
	holed := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 32; x++ {
			holed.SetNRGBA(x, y, green)
		}
	}
	var holedPNG bytes.Buffer
	if err := png.Encode(&holedPNG, holed); err != nil {
		t.Fatal(err)
	}
	plain := decodeResult(t, mustGenerate(t, ctx, imageJob("a meadow", 3, 64, 64)))
	// greenness is how close a pixel is to the source's green (0 far, 1 equal).
	greenness := func(img image.Image, x, y int) float64 {
		r, g, b, _ := img.At(x, y).RGBA()
		d := math.Abs(float64(r>>8)) + math.Abs(float64(g>>8)-220) + math.Abs(float64(b>>8))
		return 1 - d/(3*255)
	}
	tests := []struct {
		name  string
		image ImageParams
		check func(t *testing.T, img image.Image)
	}{
		{"img2img at a low strength keeps the source", ImageParams{SourceImage: src, SourceProcessing: "img2img", DenoisingStrength: 0.1},
			func(t *testing.T, img image.Image) {
				if g := greenness(img, 20, 20); g < 0.9 {
					t.Errorf("greenness %.2f at strength 0.1, want the source's colour", g)
				}
			}},
		{"img2img at strength 1 is the picture alone", ImageParams{SourceImage: src, SourceProcessing: "img2img", DenoisingStrength: 1},
			func(t *testing.T, img image.Image) {
				if !samePixel(img, plain, 20, 20) {
					t.Errorf("pixel %v, want the txt2img picture's %v", img.At(20, 20), plain.At(20, 20))
				}
			}},
		{"outpainting paints only the white of the mask", ImageParams{SourceImage: src, SourceProcessing: "outpainting", SourceMask: mask.Bytes()},
			func(t *testing.T, img image.Image) {
				if g := greenness(img, 10, 20); g < 0.9 {
					t.Errorf("kept half: greenness %.2f, want the source", g)
				}
				if !samePixel(img, plain, 48, 20) {
					t.Errorf("painted half: %v, want the picture's %v", img.At(48, 20), plain.At(48, 20))
				}
			}},
		{"outpainting without a mask paints the transparent part", ImageParams{SourceImage: holedPNG.Bytes(), SourceProcessing: "outpainting"},
			func(t *testing.T, img image.Image) {
				if g := greenness(img, 10, 20); g < 0.9 {
					t.Errorf("opaque half: greenness %.2f, want the source", g)
				}
				if !samePixel(img, plain, 48, 20) {
					t.Errorf("transparent half: %v, want the picture's %v", img.At(48, 20), plain.At(48, 20))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := imageJob("a meadow", 3, 64, 64)
			p := tt.image
			p.Width, p.Height, p.Steps = 64, 64, 20
			job.Image = &p
			tt.check(t, decodeResult(t, mustGenerate(t, ctx, job)))
		})
	}
	t.Run("a source that is no image fails the job", func(t *testing.T) {
		job := imageJob("a meadow", 3, 64, 64)
		job.Image.SourceImage, job.Image.SourceProcessing = []byte("not an image"), "img2img"
		if _, err := NewProcedural().Generate(ctx, job); err == nil {
			t.Fatal("generated from a broken source")
		}
	})
}

func mustGenerate(t *testing.T, ctx context.Context, job Job) Result {
	t.Helper()
	res, err := NewProcedural().Generate(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func decodeResult(t *testing.T, res Result) image.Image {
	t.Helper()
	img, err := webp.Decode(bytes.NewReader(res.Image))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// samePixel reports whether two lossy encodings agree at (x, y) within a few levels.
func samePixel(a, b image.Image, x, y int) bool {
	ar, ag, ab, _ := a.At(x, y).RGBA()
	br, bg, bb, _ := b.At(x, y).RGBA()
	d := math.Abs(float64(ar>>8)-float64(br>>8)) + math.Abs(float64(ag>>8)-float64(bg>>8)) + math.Abs(float64(ab>>8)-float64(bb>>8))
	return d <= 24
}
