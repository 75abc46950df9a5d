package worker

import (
	"bytes"
	"context"
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
